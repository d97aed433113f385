namespace Appliance.Host.Leds.Triggers;

/// <summary>What a trigger wants now, and the next time its answer can change by itself (time-driven
/// triggers). <see cref="TimeSpan.MaxValue"/> means "only when the state changes", which wakes the scheduler
/// (<see cref="State.ApplianceState.Changed"/>).</summary>
public readonly record struct LedDecision(bool On, TimeSpan NextChange)
{
    public static LedDecision Steady(bool on) => new(on, TimeSpan.MaxValue);
}
