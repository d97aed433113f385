namespace Appliance.Host.Leds.Triggers;

/// <summary>`heartbeat`: <see cref="BlinkPattern.Heartbeat"/> from the first evaluation on. It runs on the
/// LED thread, so it stops beating when the process (not just the datapath) hangs.</summary>
public sealed class HeartbeatTrigger : ILedTrigger
{
    private TimeSpan? _origin;

    public string Name => "heartbeat";

    public LedDecision Evaluate(TimeSpan now)
    {
        _origin ??= now;
        return BlinkPattern.Heartbeat.At(_origin.Value, now);
    }
}
