namespace Appliance.Host.Leds.Triggers;

/// <summary>A repeating on/off sequence, starting with "on" at its origin: phases alternate on, off, on,
/// off… Evaluated as a function of time, so a late scheduler wake-up never shifts later transitions.</summary>
public sealed class BlinkPattern
{
    private readonly long[] _phaseTicks;
    private readonly long _periodTicks;

    public BlinkPattern(params TimeSpan[] phases)
    {
        if (phases.Length == 0 || phases.Length % 2 != 0 || phases.Any(p => p <= TimeSpan.Zero))
            throw new ArgumentException("a blink pattern needs an even number of positive on/off durations", nameof(phases));
        _phaseTicks = [.. phases.Select(p => p.Ticks)];
        _periodTicks = _phaseTicks.Sum();
    }

    /// <summary>Status "booting": 100 ms on, 100 ms off (OpenWrt preinit).</summary>
    public static readonly BlinkPattern Boot = Ms(100, 100);

    /// <summary>Status "fallback or invalid config": 50 ms on, 50 ms off (OpenWrt failsafe).</summary>
    public static readonly BlinkPattern Degraded = Ms(50, 50);

    /// <summary>Status "a change waits for `meta-appliance confirm`": 500 ms on, 500 ms off.</summary>
    public static readonly BlinkPattern Pending = Ms(500, 500);

    /// <summary>Status "fault": 1 s on, 1 s off.</summary>
    public static readonly BlinkPattern Fault = Ms(1000, 1000);

    /// <summary>The double pulse of Linux's heartbeat trigger at zero load, fixed: on 70, off 250, on 70,
    /// off 870 ms (period 1.26 s; Linux shortens the period as the load average grows — we do not).</summary>
    public static readonly BlinkPattern Heartbeat = Ms(70, 250, 70, 870);

    public TimeSpan Period => TimeSpan.FromTicks(_periodTicks);

    private static BlinkPattern Ms(params int[] ms) => new([.. ms.Select(m => TimeSpan.FromMilliseconds(m))]);

    /// <summary>The value at <paramref name="now"/> for a pattern started at <paramref name="origin"/>, and
    /// when the current phase ends.</summary>
    public LedDecision At(TimeSpan origin, TimeSpan now)
    {
        var elapsed = Math.Max(0, (now - origin).Ticks);
        var position = elapsed % _periodTicks;
        var phaseEnd = 0L;
        for (var i = 0; i < _phaseTicks.Length; i++)
        {
            phaseEnd += _phaseTicks[i];
            if (position < phaseEnd)
                return new LedDecision(On: i % 2 == 0, NextChange: now + TimeSpan.FromTicks(phaseEnd - position));
        }
        throw new InvalidOperationException("unreachable: position is below the period");
    }
}
