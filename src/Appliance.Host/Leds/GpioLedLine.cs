namespace Appliance.Host.Leds;

/// <summary>An LED on a GPIO output. Active-low is done here, in software: libgpiod's active-low flags
/// are not used by System.Device.Gpio 4.2.0 (reference/board.md §6.3).</summary>
public sealed class GpioLedLine : ILedLine
{
    private readonly IGpioOutput _output;
    private readonly bool _activeLow;

    public GpioLedLine(IGpioBackend backend, GpioLineAddress address)
    {
        _activeLow = address.ActiveLow;
        _output = backend.OpenOutput(address, initialHigh: LevelFor(false));
        Description = address.ToString();
    }

    public string Description { get; }

    public void Set(bool on) => _output.Write(LevelFor(on));

    private bool LevelFor(bool on) => on != _activeLow;

    public void Dispose() => _output.Dispose();
}
