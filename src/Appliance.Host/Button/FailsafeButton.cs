using System.Device.Gpio;
using Iot.Device.Button;

namespace Appliance.Host.Button;

/// <summary>The failsafe button through Iot.Device.Bindings' <see cref="GpioButton"/>: held for
/// <see cref="LongPress"/> it calls <c>longPress</c> (once, while still held); released earlier it calls
/// <c>shortPress</c>. Active-low buttons (pressed = line low) are the usual wiring with a pull-up.</summary>
public sealed class FailsafeButton : IDisposable
{
    public static readonly TimeSpan LongPress = TimeSpan.FromSeconds(5);

    /// <summary>Edges closer than this to the previous one are contact bounce and ignored.</summary>
    public static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(20);

    private readonly GpioButton _button;
    private volatile bool _held;

    public FailsafeButton(GpioController controller, int line, bool activeLow, Action longPress, Action shortPress)
    {
        // The line's own pull resistor where the driver can set it, else the board's (PinMode.Input).
        bool internalPull = controller.IsPinModeSupported(line, activeLow ? PinMode.InputPullUp : PinMode.InputPullDown);
        _button = new GpioButton(line, doublePress: TimeSpan.FromSeconds(1), holding: LongPress, isPullUp: activeLow,
            hasExternalResistor: !internalPull, gpio: controller, shouldDispose: false, debounceTime: Debounce)
        {
            IsHoldingEnabled = true,
        };
        _button.Holding += (_, e) =>
        {
            if (e.HoldingState != ButtonHoldingState.Started) return;
            _held = true;
            longPress();
        };
        _button.Press += (_, _) =>
        {
            if (!_held) shortPress();
            _held = false;
        };
    }

    public void Dispose() => _button.Dispose();
}
