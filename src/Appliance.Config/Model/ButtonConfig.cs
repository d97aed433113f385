namespace Appliance.Config;

/// <summary>The failsafe button: a GPIO input line. A long press (≥ 5 s) switches to the last good config (or the
/// factory config); a short press tells on the console what the status LED means now.</summary>
public sealed record ButtonConfig
{
    /// <summary>Label of the gpiochip (as `gpiodetect` shows in brackets), e.g. "9030000.pl061".</summary>
    public required string Chip { get; init; }

    /// <summary>Line offset on that chip.</summary>
    public required int Line { get; init; }

    /// <summary>True (the default) when the button pulls the line low while pressed.</summary>
    public bool ActiveLow { get; set; } = true;
}
