namespace Appliance.Host.Leds.Triggers;

/// <summary>Decides an LED's value from the time and the appliance state. Called only on the LED thread,
/// so implementations may keep state (blink phase, last counter sample) without locks.</summary>
public interface ILedTrigger
{
    /// <summary>The trigger as written in the config ("status", "link:eth0").</summary>
    string Name { get; }

    LedDecision Evaluate(TimeSpan now);
}
