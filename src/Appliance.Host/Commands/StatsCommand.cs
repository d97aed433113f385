namespace Appliance.Host.Commands;

/// <summary>`meta-appliance stats [--socket PATH] [--json]`: counters per port, pair side (drops by reason) and program.</summary>
public static class StatsCommand
{
    public static int Run(string[] args) => ControlVerb.Run("stats", args, jsonAllowed: true);
}
