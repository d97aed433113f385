namespace Appliance.Host.Leds;

/// <summary>A GPIO line requested as an output: the physical level only (true = high).</summary>
public interface IGpioOutput : IDisposable
{
    void Write(bool high);
}
