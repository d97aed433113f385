namespace Appliance.Host.Leds;

/// <summary>An LED on a GPIO line: the gpiochip's label (e.g. "9030000.pl061"), the line offset within
/// that chip, and whether the LED lights when the line is driven low.</summary>
public sealed record GpioLineAddress(string ChipLabel, int Offset, bool ActiveLow = false) : LedLineAddress
{
    public override string ToString() => $"gpio {ChipLabel}:{Offset}{(ActiveLow ? " active-low" : "")}";
}
