namespace Appliance.Host.Commands;

/// <summary>`meta-appliance leds [on|off] [--json] [--socket PATH]`: each LED of the running appliance (name,
/// line, trigger, on/off now) and the night-mode state; `leds off` turns every LED off (night mode), `leds on`
/// shows the triggers again (see <see cref="Control.LedControl"/>).</summary>
public static class LedsCommand
{
    public static int Run(string[] args) => ControlVerb.Run("leds", args, jsonAllowed: true);
}
