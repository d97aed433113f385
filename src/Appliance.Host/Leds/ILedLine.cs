namespace Appliance.Host.Leds;

/// <summary>One LED as the appliance sees it: logically on or off. Polarity (active-low) and the
/// hardware behind it (a GPIO line, a kernel LED) are the implementation's business.</summary>
public interface ILedLine : IDisposable
{
    /// <summary>Where the LED is wired, for logs and the `leds` listing ("gpio 9030000.pl061:0 active-low").</summary>
    string Description { get; }

    void Set(bool on);
}
