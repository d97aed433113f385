namespace Appliance.Host.Leds;

/// <summary>One configured LED: its name ("status"), where it is wired, and its trigger as text
/// ("link:eth0"). The input the LED controller takes; mapped from the config model's LED entries.</summary>
public sealed record LedSpec(string Name, LedLineAddress Address, string Trigger);
