namespace Appliance.Host.Leds;

/// <summary>An LED the kernel already drives (a DT `gpio-leds` node): /sys/class/leds/NAME. Polarity is
/// the device tree's business, so there is no active-low flag here.</summary>
public sealed record KernelLedAddress(string Name) : LedLineAddress
{
    public override string ToString() => $"sysfs led {Name}";
}
