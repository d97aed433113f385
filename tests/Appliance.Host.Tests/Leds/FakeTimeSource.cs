using Appliance.Host.Time;

namespace Appliance.Host.Tests.Leds;

/// <summary>A virtual clock for ONE sleeping thread (the LED scheduler or the supervisor). Time moves only
/// when that thread sleeps: a <see cref="WaitUntil"/> whose deadline is within the limit set by
/// <see cref="RunUntil"/> jumps the clock to the deadline and returns at once; a later deadline parks the
/// thread. <see cref="RunUntil"/> raises the limit and returns once the thread is parked beyond it, with
/// <see cref="Now"/> = the limit. So every test step is deterministic: no real time is involved except a
/// generous timeout that turns a hung thread into a failure.</summary>
public sealed class FakeTimeSource : ITimeSource
{
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(20);
    private readonly object _gate = new();
    private TimeSpan _now;
    private TimeSpan _limit;
    private long _generation;
    private long _parkedGeneration = -1;
    private int _wakeups;

    /// <summary>How many waits have ended (their deadline came or they were cancelled): on a real clock each is a
    /// wake-up of the sleeping thread, which is what an idle thread costs.</summary>
    public int Wakeups
    {
        get { lock (_gate) return _wakeups; }
    }

    public TimeSpan Now
    {
        get { lock (_gate) return _now; }
    }

    public void WaitUntil(TimeSpan deadline, CancellationToken cancel)
    {
        using var wake = cancel.Register(() => { lock (_gate) Monitor.PulseAll(_gate); });
        lock (_gate)
        {
            try
            {
                while (!cancel.IsCancellationRequested)
                {
                    if (deadline <= _limit)
                    {
                        if (deadline > _now) _now = deadline;
                        return;
                    }
                    _parkedGeneration = _generation;
                    Monitor.PulseAll(_gate);
                    Monitor.Wait(_gate);
                }
            }
            finally
            {
                _parkedGeneration = -1;
                _wakeups++;
            }
        }
    }

    /// <summary>Lets the sleeping thread run until virtual time <paramref name="until"/>; returns when it is
    /// parked waiting for a later time. Then <see cref="Now"/> is exactly <paramref name="until"/>.</summary>
    public void RunUntil(TimeSpan until)
    {
        lock (_gate)
        {
            if (until < _now) throw new ArgumentOutOfRangeException(nameof(until), $"time cannot go back from {_now} to {until}");
            _limit = until;
            var generation = ++_generation;
            Monitor.PulseAll(_gate);
            var giveUp = DateTime.UtcNow + HandshakeTimeout;
            while (_parkedGeneration != generation)
            {
                var left = giveUp - DateTime.UtcNow;
                if (left <= TimeSpan.Zero)
                    throw new TimeoutException($"the thread under test did not park before virtual time {until} within {HandshakeTimeout.TotalSeconds} s (real time)");
                Monitor.Wait(_gate, left);
            }
            _now = until;
        }
    }

    public void RunUntil(int milliseconds) => RunUntil(TimeSpan.FromMilliseconds(milliseconds));
}
