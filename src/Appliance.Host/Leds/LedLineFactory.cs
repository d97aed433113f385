namespace Appliance.Host.Leds;

/// <summary>Opens the <see cref="ILedLine"/> for an address. The GPIO backend is created only when a GPIO
/// LED is configured, so a board with kernel LEDs only never needs libgpiod.</summary>
public sealed class LedLineFactory(Func<IGpioBackend> gpioBackend, string sysClassLeds = "/sys/class/leds") : IDisposable
{
    private IGpioBackend? _gpio;

    public ILedLine Open(LedLineAddress address) => address switch
    {
        GpioLineAddress gpio => new GpioLedLine(_gpio ??= gpioBackend(), gpio),
        KernelLedAddress led => new SysfsLedLine(sysClassLeds, led),
        _ => throw new ArgumentException($"unknown LED address kind {address.GetType().Name}", nameof(address)),
    };

    /// <summary>The GPIO backend, created now if no LED needed it yet (the failsafe button).</summary>
    public IGpioBackend GpioBackend() => _gpio ??= gpioBackend();

    /// <summary>The GPIO backend in use, or null when none was needed yet.</summary>
    public IGpioBackend? Gpio => _gpio;

    public void Dispose() => _gpio?.Dispose();
}
