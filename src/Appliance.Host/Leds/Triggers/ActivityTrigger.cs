using Appliance.Host.State;
namespace Appliance.Host.Leds.Triggers;

/// <summary>`activity:NAME`: samples the port's or pair's packet counter every <see cref="SampleInterval"/>
/// (50 ms, the kernel netdev trigger's default interval) while it moves. When the counter moved since the previous
/// sample the LED toggles; when it did not, the LED goes off. So one packet gives a single 50 ms flash and steady
/// traffic a 50/50 ms blink (10 Hz). An idle interface stays dark and costs no wake-up: the trigger arms the
/// datapath's traffic signal (<see cref="InterfaceState.WakeOnTraffic"/>) and sleeps until a forwarding worker that
/// moved frames rings it — when it next goes idle, so a lone packet flashes within a millisecond or so, or within
/// 100 ms (its health check) under traffic that keeps it busy. Without that signal (the kernel's counters before the
/// datapath runs) an idle interface is sampled every <see cref="IdleSampleInterval"/>, so the first flash comes up
/// to 250 ms late. The first sample only sets the baseline.</summary>
public sealed class ActivityTrigger(InterfaceState iface) : ILedTrigger
{
    public static readonly TimeSpan SampleInterval = TimeSpan.FromMilliseconds(50);
    public static readonly TimeSpan IdleSampleInterval = TimeSpan.FromMilliseconds(250);

    private TimeSpan? _nextSample;
    private bool _sampled;
    private ulong _lastCount;
    private bool _on;

    public string Name { get; } = $"activity:{iface.Name}";

    public LedDecision Evaluate(TimeSpan now)
    {
        if (_nextSample is { } due && now < due) return new LedDecision(_on, due);
        var count = iface.ReadPackets();
        var moved = _sampled && count != _lastCount;
        _sampled = true;
        _lastCount = count;
        _on = moved && !_on;
        if (!_on && !moved && iface.WakeOnTraffic() && iface.ReadPackets() == count)
        {
            // Dark, idle, and the signal armed before this second look (frames counted after it ring it): sleep until
            // frames move. Whatever wakes the LED thread next samples at once.
            _nextSample = null;
            return new LedDecision(false, TimeSpan.MaxValue);
        }
        // Keep the sampling grid fixed: a late wake-up does not shift later samples. Busy (the counter moved or the
        // LED is lit): every 50 ms; idle: every 250 ms.
        var interval = moved || _on ? SampleInterval : IdleSampleInterval;
        var next = _nextSample ?? now;
        while (next <= now) next += interval;
        _nextSample = next;
        return new LedDecision(_on, next);
    }
}
