namespace Appliance.Config;

/// <summary>LED lines are non-negative and used once per chip; link/activity triggers name a port (or, for activity, a pair).</summary>
internal sealed class LedRule : IConfigRule
{
    public void Check(ApplianceConfig config, ConfigIssues issues)
    {
        var ports = config.Ports.Select(p => p.Name).ToList();
        var portsAndPairs = ports.Concat(config.Pairs.Select(p => p.Name)).ToList();
        var portSet = ports.ToHashSet(StringComparer.Ordinal);
        var portAndPairSet = portsAndPairs.ToHashSet(StringComparer.Ordinal);
        var lineOwner = new Dictionary<(string, int), int>();
        for (int i = 0; i < config.Leds.Lines.Count; i++)
        {
            var led = config.Leds.Lines[i];
            string at = $"$.leds.lines[{i}]";
            if (string.IsNullOrWhiteSpace(led.Chip))
                issues.Add($"{at}.chip", "chip is empty; expected the gpiochip label that `gpiodetect` shows in brackets, e.g. \"9030000.pl061\"");
            if (led.Line < 0)
                issues.Add($"{at}.line", $"line {led.Line} is negative; expected the line offset on the chip (0 or more)");
            else if (!lineOwner.TryAdd((led.Chip, led.Line), i))
                issues.Add($"{at}.line", $"line {led.Line} of chip \"{led.Chip}\" is already driven by $.leds.lines[{lineOwner[(led.Chip, led.Line)]}]");
            var trigger = led.Trigger;
            if (trigger.Kind == LedTriggerKind.Link && !portSet.Contains(trigger.Target!))
                issues.AddUnknownReference($"{at}.trigger", $"unknown port \"{trigger.Target}\" in \"{trigger}\" ({NameList.ExpectedOneOf(ports, "ports")})", trigger.Target!, "$.ports");
            if (trigger.Kind == LedTriggerKind.Activity && !portAndPairSet.Contains(trigger.Target!))
                issues.AddUnknownReference($"{at}.trigger", $"unknown port or pair \"{trigger.Target}\" in \"{trigger}\" ({NameList.ExpectedOneOf(portsAndPairs, "ports or pairs")})", trigger.Target!, "$.ports", "$.pairs");
        }
    }
}
