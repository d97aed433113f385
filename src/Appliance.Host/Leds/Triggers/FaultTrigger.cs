using Appliance.Host.State;
namespace Appliance.Host.Leds.Triggers;

/// <summary>`fault`: on while any fault is active (datapath crashed and restarting, config refused…).</summary>
public sealed class FaultTrigger(ApplianceState state) : ILedTrigger
{
    public string Name => "fault";

    public LedDecision Evaluate(TimeSpan now) => LedDecision.Steady(state.HasFault);
}
