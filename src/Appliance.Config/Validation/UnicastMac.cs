namespace Appliance.Config;

/// <summary>An interface MAC must be unicast and not all zeros.</summary>
internal static class UnicastMac
{
    public static void Check(MacAddress mac, string path, ConfigIssues issues)
    {
        if (mac.IsZero)
            issues.Add(path, $"MAC {mac} is all zeros; expected a unicast MAC like \"02:00:00:00:00:01\"");
        else if (mac.IsMulticast)
            issues.Add(path, $"MAC {mac} is a multicast address (lowest bit of the first octet set); expected a unicast MAC like \"02:00:00:00:00:01\"");
    }
}
