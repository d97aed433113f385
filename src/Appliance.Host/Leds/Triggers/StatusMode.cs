namespace Appliance.Host.Leds.Triggers;

/// <summary>What the status LED is showing.</summary>
public enum StatusMode
{
    Booting,
    Running,
    Degraded,
    /// <summary>A reload applied with --confirm waits for `meta-appliance confirm` (rolled back at its deadline).</summary>
    PendingConfirm,
    Fault,
}
