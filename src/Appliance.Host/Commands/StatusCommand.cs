namespace Appliance.Host.Commands;

/// <summary>`meta-appliance status [--socket PATH] [--json]`: ports, pairs, carrier and chains of the running appliance.</summary>
public static class StatusCommand
{
    public static int Run(string[] args) => ControlVerb.Run("status", args, jsonAllowed: true);
}
