namespace Appliance.Config;

/// <summary>`button`: a chip label and a line offset that no LED drives.</summary>
internal sealed class ButtonRule : IConfigRule
{
    public void Check(ApplianceConfig config, ConfigIssues issues)
    {
        if (config.Button is not { } b) return;
        if (string.IsNullOrWhiteSpace(b.Chip)) issues.Add("$.button.chip", "chip is empty; expected the gpiochip label as gpiodetect shows it, e.g. \"9030000.pl061\"");
        if (b.Line < 0) issues.Add("$.button.line", $"line {b.Line} is negative; expected the line offset on the chip (0 or more)");
        for (int i = 0; i < config.Leds.Lines.Count; i++)
        {
            var led = config.Leds.Lines[i];
            if (led.Chip == b.Chip && led.Line == b.Line)
                issues.Add("$.button.line", $"line {b.Line} of chip \"{b.Chip}\" is already driven by $.leds.lines[{i}]");
        }
    }
}
