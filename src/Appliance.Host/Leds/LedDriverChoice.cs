using Appliance.Host.Leds.Backends;
using Appliance.Host.Time;

namespace Appliance.Host.Leds;

/// <summary>Which LED driver `run` uses (`--leds gpio|memory|none`, else the META_APPLIANCE_LEDS environment
/// variable, else gpio): <c>gpio</c> drives the config's lines through libgpiod (and sysfs LEDs); <c>memory</c>
/// uses the in-memory GPIO driver with every chip present (a PC or CI without GPIO: `meta-appliance leds` shows
/// what the LEDs would do); <c>none</c> drives no LEDs at all.</summary>
public enum LedDriverChoice
{
    Gpio,
    Memory,
    None,
}

public static class LedDriverChoices
{
    public const string EnvironmentVariable = "META_APPLIANCE_LEDS";

    public static LedDriverChoice? Parse(string? text) => text switch
    {
        "gpio" => LedDriverChoice.Gpio,
        "memory" => LedDriverChoice.Memory,
        "none" => LedDriverChoice.None,
        _ => null,
    };

    /// <summary>The line factory for <paramref name="choice"/>, or null for <see cref="LedDriverChoice.None"/>.</summary>
    public static LedLineFactory? Lines(LedDriverChoice choice, ITimeSource time) => choice switch
    {
        LedDriverChoice.Gpio => new LedLineFactory(() => new LibGpiodBackend()),
        LedDriverChoice.Memory => new LedLineFactory(() => new InMemoryGpioBackend(time).WithAnyChip()),
        _ => null,
    };
}
