using System.Device.Gpio;

namespace Appliance.Host.Leds.Backends;

/// <summary>A System.Device.Gpio driver without hardware for one in-memory chip: input levels are set by
/// <see cref="SetInput"/> (a test pressing the failsafe button), which raises the registered edge callbacks the
/// way the libgpiod driver's event thread does.</summary>
public sealed class InMemoryGpioDriver(int lines) : GpioDriver
{
    private readonly Dictionary<int, (PinValue Value, PinMode Mode)> _pins = [];
    private readonly Dictionary<int, List<(PinEventTypes Types, PinChangeEventHandler Handler)>> _callbacks = [];
    private readonly object _gate = new();

    protected override int PinCount => lines;

    /// <summary>Drives input line <paramref name="pin"/> to <paramref name="high"/>; an edge raises the callbacks.</summary>
    public void SetInput(int pin, bool high)
    {
        var value = high ? PinValue.High : PinValue.Low;
        List<(PinEventTypes Types, PinChangeEventHandler Handler)> handlers;
        lock (_gate)
        {
            var mode = _pins.TryGetValue(pin, out var p) ? p.Mode : PinMode.Input;
            var old = _pins.TryGetValue(pin, out var q) ? q.Value : PinValue.High;
            _pins[pin] = (value, mode);
            if (old == value) return;
            handlers = _callbacks.TryGetValue(pin, out var list) ? [.. list] : [];
        }
        var edge = high ? PinEventTypes.Rising : PinEventTypes.Falling;
        foreach (var (types, handler) in handlers)
            if ((types & edge) != 0) handler(this, new PinValueChangedEventArgs(edge, pin));
    }

    private void Check(int pin)
    {
        if (pin < 0 || pin >= lines) throw new ArgumentOutOfRangeException(nameof(pin), $"the in-memory chip has lines 0..{lines - 1}");
    }

    protected override void OpenPin(int pinNumber)
    {
        Check(pinNumber);
        lock (_gate) _pins.TryAdd(pinNumber, (PinValue.High, PinMode.Input));
    }

    protected override void ClosePin(int pinNumber)
    {
        lock (_gate)
        {
            _pins.Remove(pinNumber);
            _callbacks.Remove(pinNumber);
        }
    }

    protected override void SetPinMode(int pinNumber, PinMode mode)
    {
        lock (_gate) _pins[pinNumber] = (_pins.TryGetValue(pinNumber, out var p) ? p.Value : PinValue.High, mode);
    }

    protected override PinMode GetPinMode(int pinNumber)
    {
        lock (_gate) return _pins.TryGetValue(pinNumber, out var p) ? p.Mode : PinMode.Input;
    }

    protected override bool IsPinModeSupported(int pinNumber, PinMode mode) => true;

    protected override PinValue Read(int pinNumber)
    {
        lock (_gate) return _pins.TryGetValue(pinNumber, out var p) ? p.Value : PinValue.High;
    }

    protected override void Write(int pinNumber, PinValue value)
    {
        lock (_gate) _pins[pinNumber] = (value, _pins.TryGetValue(pinNumber, out var p) ? p.Mode : PinMode.Output);
    }

    protected override WaitForEventResult WaitForEvent(int pinNumber, PinEventTypes eventTypes, CancellationToken cancellationToken) =>
        throw new NotSupportedException("the in-memory GPIO driver raises callbacks only");

    protected override void AddCallbackForPinValueChangedEvent(int pinNumber, PinEventTypes eventTypes, PinChangeEventHandler callback)
    {
        lock (_gate)
        {
            if (!_callbacks.TryGetValue(pinNumber, out var list)) _callbacks[pinNumber] = list = [];
            list.Add((eventTypes, callback));
        }
    }

    protected override void RemoveCallbackForPinValueChangedEvent(int pinNumber, PinChangeEventHandler callback)
    {
        lock (_gate)
            if (_callbacks.TryGetValue(pinNumber, out var list)) list.RemoveAll(c => c.Handler == callback);
    }
}
