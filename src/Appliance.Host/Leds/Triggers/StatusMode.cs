namespace Appliance.Host.Leds.Triggers;

/// <summary>What the status LED is showing.</summary>
public enum StatusMode
{
    Booting,
    Running,
    Degraded,
    Fault,
}
