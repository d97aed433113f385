namespace Appliance.Config;

/// <summary>A GPIO line driving an LED.</summary>
public sealed record LedConfig
{
    public required string Name { get; init; }

    /// <summary>Label of the gpiochip (as `gpiodetect` shows in brackets), e.g. "9030000.pl061".</summary>
    public required string Chip { get; init; }

    /// <summary>Line offset on that chip.</summary>
    public required int Line { get; init; }

    /// <summary>True when the LED lights with the line low; the appliance inverts.</summary>
    public bool ActiveLow { get; set; }

    public required LedTrigger Trigger { get; init; }
}
