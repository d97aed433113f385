using System.Diagnostics;

namespace Appliance.Bpf.Vm;

/// <summary>A token bucket for <c>bpf_trace_printk</c>: at most N lines per second reach the log sink; the
/// rest are counted in <see cref="Suppressed"/>.</summary>
internal sealed class TraceRateLimiter(int linesPerSecond)
{
    private long _windowStart = Stopwatch.GetTimestamp();
    private int _used;

    public long Suppressed { get; private set; }

    public bool TryTake()
    {
        long now = Stopwatch.GetTimestamp();
        if (now - _windowStart >= Stopwatch.Frequency)
        {
            _windowStart = now;
            _used = 0;
        }
        if (_used < linesPerSecond) { _used++; return true; }
        Suppressed++;
        return false;
    }
}
