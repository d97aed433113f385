namespace Appliance.Host.Leds;

/// <summary>All LEDs of the board plus the global night-mode switch (`leds: off` in the config turns every
/// LED off; the triggers keep running and the LEDs show their current state again when it is turned on).</summary>
public sealed record LedSetup(IReadOnlyList<LedSpec> Leds, bool AllOff = false)
{
    public static readonly LedSetup None = new([]);
}
