namespace Appliance.Host.Commands;

/// <summary>`meta-appliance reload [--socket PATH]`: asks the running appliance to re-read its config file and
/// apply what changed (see <see cref="Control.ConfigReload"/>), like SIGHUP.</summary>
public static class ReloadCommand
{
    public static int Run(string[] args) => ControlVerb.Run("reload", args);
}
