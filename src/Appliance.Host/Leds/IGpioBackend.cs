namespace Appliance.Host.Leds;

/// <summary>Requests GPIO lines as outputs: libgpiod through System.Device.Gpio on a board
/// (<see cref="Backends.LibGpiodBackend"/>), or an in-memory recorder in tests
/// (<see cref="Backends.InMemoryGpioBackend"/>).</summary>
public interface IGpioBackend : IDisposable
{
    /// <summary>What is driving the lines, for logs ("libgpiod v1 (libgpiod.so.2)").</summary>
    string Name { get; }

    /// <summary>Requests the line at <paramref name="address"/> as an output driven to
    /// <paramref name="initialHigh"/> (glitch-free where the driver allows). Throws
    /// <see cref="LedHardwareException"/> naming the chip/line when it is missing or busy.</summary>
    IGpioOutput OpenOutput(GpioLineAddress address, bool initialHigh);

    /// <summary>The System.Device.Gpio controller of the chip labelled <paramref name="chipLabel"/> (owned by the
    /// backend), for input lines such as the failsafe button (Iot.Device.Bindings' GpioButton).</summary>
    System.Device.Gpio.GpioController Controller(string chipLabel);
}
