using System.Diagnostics;

namespace Appliance.Host.Time;

/// <summary>The real clock: <see cref="Stopwatch"/> time (CLOCK_MONOTONIC), waits on the cancellation handle.</summary>
public sealed class MonotonicTimeSource : ITimeSource
{
    public static readonly MonotonicTimeSource Instance = new();

    private readonly long _origin = Stopwatch.GetTimestamp();

    public TimeSpan Now => Stopwatch.GetElapsedTime(_origin);

    public void WaitUntil(TimeSpan deadline, CancellationToken cancel)
    {
        while (!cancel.IsCancellationRequested)
        {
            var remaining = deadline - Now;
            if (remaining <= TimeSpan.Zero) return;
            // WaitOne takes at most int.MaxValue ms; loop for longer waits (deadline = TimeSpan.MaxValue).
            // Rounded up to whole milliseconds plus one: a timed wait may end up to a millisecond early (millisecond
            // clocks), and each early end would cost another wake-up (on an idle board every wake-up counts).
            var ms = remaining > TimeSpan.FromHours(1) ? 3_600_000 : (int)Math.Ceiling(remaining.TotalMilliseconds) + 1;
            cancel.WaitHandle.WaitOne(ms);
        }
    }
}
