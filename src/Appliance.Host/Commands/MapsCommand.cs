namespace Appliance.Host.Commands;

/// <summary>`meta-appliance maps [list|dump MAP|update MAP KEY VALUE|delete MAP KEY] [--socket PATH] [--json]`: eBPF maps of the running appliance.</summary>
public static class MapsCommand
{
    public static int Run(string[] args) => ControlVerb.Run("maps", args, jsonAllowed: true);
}
