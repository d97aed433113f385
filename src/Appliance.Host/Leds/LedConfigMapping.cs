using Appliance.Config;

namespace Appliance.Host.Leds;

/// <summary>The config file's `leds` section (Appliance.Config) as the controller's <see cref="LedSetup"/>:
/// every line is a GPIO line by chip label and offset; `state: off` is night mode.</summary>
public static class LedConfigMapping
{
    public static LedSetup ToSetup(LedSettings settings) => new(
        [.. settings.Lines.Select(l => new LedSpec(l.Name, new GpioLineAddress(l.Chip, l.Line, l.ActiveLow), l.Trigger.ToString()))],
        AllOff: settings.State == LedState.Off);
}
