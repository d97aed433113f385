namespace Appliance.Config;

/// <summary>Port MTU and queues in range, port MAC a usable unicast address.</summary>
internal sealed class PortRule : IConfigRule
{
    public void Check(ApplianceConfig config, ConfigIssues issues)
    {
        for (int i = 0; i < config.Ports.Count; i++)
        {
            var port = config.Ports[i];
            if (port.Mtu is int mtu) RangeCheck.Check(mtu, ConfigLimits.MinMtu, ConfigLimits.MaxMtu, $"$.ports[{i}].mtu", "mtu", issues);
            if (port.Queues is int queues)
                RangeCheck.Check(queues, 1, ConfigLimits.MaxPortQueues, $"$.ports[{i}].queues", "queues (RX queues of the port, one socket each)", issues);
            if (port.Mac is MacAddress mac) UnicastMac.Check(mac, $"$.ports[{i}].mac", issues);
        }
    }
}
