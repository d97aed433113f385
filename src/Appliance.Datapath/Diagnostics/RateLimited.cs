namespace Appliance.Datapath.Diagnostics;

/// <summary>Lets at most <c>burst</c> events through per interval and counts the rest, then reports how
/// many were suppressed with the next event that passes — like the kernel's printk_ratelimit. One per
/// event kind; cheap when closed (no allocation, no lock on the suppressed path).</summary>
public sealed class RateLimited(int burst, TimeSpan interval, Func<long>? ticks = null)
{
    private readonly Func<long> _ticks = ticks ?? (static () => Environment.TickCount64);
    private readonly long _intervalMs = (long)interval.TotalMilliseconds;
    private long _windowStart = long.MinValue / 2;
    private int _inWindow;
    private long _suppressed;

    public long Suppressed => Interlocked.Read(ref _suppressed);

    /// <summary>True when this event may be logged; <paramref name="suppressedBefore"/> says how many
    /// were dropped since the last one that passed.</summary>
    public bool TryEnter(out long suppressedBefore)
    {
        long now = _ticks();
        suppressedBefore = 0;
        lock (this)
        {
            if (now - _windowStart >= _intervalMs)
            {
                _windowStart = now;
                _inWindow = 0;
            }
            if (_inWindow >= burst)
            {
                _suppressed++;
                return false;
            }
            _inWindow++;
            suppressedBefore = _suppressed;
            _suppressed = 0;
            return true;
        }
    }
}
