using Appliance.Host.State;
namespace Appliance.Host.Leds.Triggers;

/// <summary>`status`: fault → 1 s on/off; fallback or invalid config → 50/50 ms; a change waiting for
/// `meta-appliance confirm` → 500/500 ms; booting → 100/100 ms; running → steady on. In that order of precedence. Each blink starts "on" when its mode is entered.</summary>
public sealed class StatusTrigger(ApplianceState state) : ILedTrigger
{
    private StatusMode? _mode;
    private TimeSpan _origin;

    public string Name => "status";

    /// <summary>The mode shown at the last evaluation (for the `leds` listing).</summary>
    public StatusMode Mode => _mode ?? StatusMode.Booting;

    public LedDecision Evaluate(TimeSpan now)
    {
        var mode = ModeOf(state);
        if (mode != _mode)
        {
            _mode = mode;
            _origin = now;
        }
        return mode switch
        {
            StatusMode.Fault => BlinkPattern.Fault.At(_origin, now),
            StatusMode.Degraded => BlinkPattern.Degraded.At(_origin, now),
            StatusMode.PendingConfirm => BlinkPattern.Pending.At(_origin, now),
            StatusMode.Booting => BlinkPattern.Boot.At(_origin, now),
            _ => LedDecision.Steady(true),
        };
    }

    public static StatusMode ModeOf(ApplianceState state) =>
        state.HasFault ? StatusMode.Fault
        : state.ConfigHealth != ConfigHealth.Ok ? StatusMode.Degraded
        : state.ConfirmDeadline is not null ? StatusMode.PendingConfirm
        : state.Stage == BootStage.Running ? StatusMode.Running
        : StatusMode.Booting;
}
