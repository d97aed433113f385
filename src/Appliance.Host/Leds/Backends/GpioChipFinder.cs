using System.Device.Gpio;

namespace Appliance.Host.Leds.Backends;

/// <summary>Picks the gpiochip for a configured label. Chip numbers shift when chips appear (gpio-sim,
/// hotplug), labels do not — except that a DT node rename can change the suffix ("9030000.pl061" →
/// "9030000.gpio"), so an exact match wins and otherwise a unique prefix match is accepted.</summary>
public static class GpioChipFinder
{
    public static GpioChipInfo Find(IReadOnlyList<GpioChipInfo> chips, string label)
    {
        foreach (var c in chips)
            if (string.Equals(c.Label, label, StringComparison.Ordinal)) return c;
        var byPrefix = chips.Where(c => c.Label.StartsWith(label, StringComparison.Ordinal)).ToList();
        if (byPrefix.Count == 1) return byPrefix[0];
        var present = chips.Count == 0 ? "no GPIO chips at all (is GPIO_CDEV enabled and /dev mounted?)"
            : "chips: " + string.Join(", ", chips.Select(c => $"{c.Name} [{c.Label}] ({c.NumLines} lines)"));
        var why = byPrefix.Count > 1 ? $"the label prefix '{label}' matches {byPrefix.Count} chips" : $"no chip is labelled '{label}'";
        throw new LedHardwareException($"LED GPIO chip not found: {why}; {present}. Fix the chip label in the board profile/config.");
    }
}
