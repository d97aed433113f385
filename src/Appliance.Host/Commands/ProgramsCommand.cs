namespace Appliance.Host.Commands;

/// <summary>`meta-appliance programs [--socket PATH]`: loaded programs and how their runs ended.</summary>
public static class ProgramsCommand
{
    public static int Run(string[] args) => ControlVerb.Run("programs", args, jsonAllowed: false);
}
