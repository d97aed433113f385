namespace Appliance.Host.Leds.Triggers;

/// <summary>`on` / `off`: a fixed value.</summary>
public sealed class ConstantTrigger(bool on) : ILedTrigger
{
    public string Name => on ? "on" : "off";

    public LedDecision Evaluate(TimeSpan now) => LedDecision.Steady(on);
}
