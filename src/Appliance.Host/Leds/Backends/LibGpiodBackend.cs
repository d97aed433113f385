using System.Device.Gpio;
using System.Device.Gpio.Drivers;

namespace Appliance.Host.Leds.Backends;

/// <summary>GPIO LEDs through System.Device.Gpio with the libgpiod driver chosen explicitly (v1 or v2 by
/// what is installed), chips found by label, lines by offset within the chip. One
/// <see cref="GpioController"/> per chip, opened on first use.</summary>
public sealed class LibGpiodBackend : IGpioBackend
{
    private readonly LibgpiodApi _api;
    private readonly Dictionary<int, GpioController> _controllers = [];
    private readonly object _gate = new();

    public LibGpiodBackend(LibgpiodApi wanted = LibgpiodApi.Auto)
    {
        (_api, var soname) = LibgpiodDetector.Detect(wanted);
        Name = $"libgpiod {(_api == LibgpiodApi.V2 ? "v2" : "v1")} ({soname})";
    }

    public string Name { get; }

    public IGpioOutput OpenOutput(GpioLineAddress address, bool initialHigh)
    {
        lock (_gate)
        {
            var chip = GpioChipFinder.Find(AvailableChips(), address.ChipLabel);
            if (address.Offset < 0 || address.Offset >= chip.NumLines)
                throw new LedHardwareException(
                    $"LED line {address}: {chip.Name} [{chip.Label}] has lines 0..{chip.NumLines - 1}, there is no line {address.Offset}. Fix the line offset in the board profile/config.");
            var controller = ControllerFor(chip);
            try
            {
                controller.OpenPin(address.Offset, PinMode.Output, initialHigh ? PinValue.High : PinValue.Low);
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or UnauthorizedAccessException or GpiodException)
            {
                throw new LedHardwareException(
                    $"LED line {address}: requesting line {address.Offset} of {chip.Name} [{chip.Label}] as an output failed ({e.Message}). " +
                    "Another driver or process may own it (see `gpioinfo`; on the virt board line 3 belongs to gpio-keys).", e);
            }
            return new Output(controller, address.Offset);
        }
    }

    public GpioController Controller(string chipLabel)
    {
        lock (_gate) return ControllerFor(GpioChipFinder.Find(AvailableChips(), chipLabel));
    }

    private IReadOnlyList<GpioChipInfo> AvailableChips()
    {
        try
        {
            return _api == LibgpiodApi.V2 ? [.. LibGpiodV2Driver.GetAvailableChips()] : [.. LibGpiodDriver.GetAvailableChips()];
        }
        catch (Exception e) when (e is GpiodException or IOException or DllNotFoundException or EntryPointNotFoundException)
        {
            throw new LedHardwareException($"Listing GPIO chips through {Name} failed: {e.Message}. Check that /dev/gpiochip* exists (GPIO_CDEV) and is readable.", e);
        }
    }

    private GpioController ControllerFor(GpioChipInfo chip)
    {
        if (_controllers.TryGetValue(chip.Id, out var existing)) return existing;
        GpioDriver driver = _api == LibgpiodApi.V2 ? new LibGpiodV2Driver(chip) : new LibGpiodDriver(chip);
        var controller = new GpioController(driver);
        _controllers[chip.Id] = controller;
        return controller;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var c in _controllers.Values) c.Dispose();
            _controllers.Clear();
        }
    }

    private sealed class Output(GpioController controller, int offset) : IGpioOutput
    {
        public void Write(bool high) => controller.Write(offset, high ? PinValue.High : PinValue.Low);

        public void Dispose()
        {
            if (controller.IsPinOpen(offset)) controller.ClosePin(offset);
        }
    }
}
