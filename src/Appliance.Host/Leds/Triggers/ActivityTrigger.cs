using Appliance.Host.State;
namespace Appliance.Host.Leds.Triggers;

/// <summary>`activity:NAME`: samples the port's or pair's packet counter every <see cref="SampleInterval"/>
/// (50 ms, the kernel netdev trigger's default interval) while it moves. When the counter moved since the previous
/// sample the LED toggles; when it did not, the LED goes off. So one packet gives a single 50 ms flash and steady
/// traffic a 50/50 ms blink (10 Hz). An idle interface stays dark and is sampled only every
/// <see cref="IdleSampleInterval"/> (the LED thread sleeps meanwhile), so the first flash of new traffic comes up to
/// 250 ms late. The first sample only sets the baseline.</summary>
public sealed class ActivityTrigger(InterfaceState iface) : ILedTrigger
{
    public static readonly TimeSpan SampleInterval = TimeSpan.FromMilliseconds(50);
    public static readonly TimeSpan IdleSampleInterval = TimeSpan.FromMilliseconds(250);

    private TimeSpan? _nextSample;
    private ulong _lastCount;
    private bool _on;

    public string Name { get; } = $"activity:{iface.Name}";

    public LedDecision Evaluate(TimeSpan now)
    {
        if (_nextSample is { } due && now < due) return new LedDecision(_on, due);
        var count = iface.ReadPackets();
        var moved = _nextSample is not null && count != _lastCount;
        _lastCount = count;
        _on = moved && !_on;
        // Keep the sampling grid fixed: a late wake-up does not shift later samples. Busy (the counter moved or the
        // LED is lit): every 50 ms; idle: every 250 ms.
        var interval = moved || _on ? SampleInterval : IdleSampleInterval;
        var next = _nextSample ?? now;
        while (next <= now) next += interval;
        _nextSample = next;
        return new LedDecision(_on, next);
    }
}
