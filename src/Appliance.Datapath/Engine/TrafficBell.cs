namespace Appliance.Datapath.Engine;

/// <summary>"Frames went through": a one-shot wake-up for a thread that sleeps while nothing moves (the activity
/// LEDs) instead of sampling counters on a timer. The sleeper arms it with a callback, looks at its counters once
/// more, and sleeps; the next forwarding worker that moved frames rings it — when it next goes to sleep, or at its
/// next health check (every <see cref="EngineOptions.HealthInterval"/>) while traffic keeps it awake — and the
/// callback runs once, on that worker. Per packet it costs nothing: a worker looks at the bell at most once per sleep
/// and per health check, and an unarmed bell is one memory read.</summary>
public sealed class TrafficBell
{
    private Action? _waiter;

    /// <summary>Arms the bell: <paramref name="ring"/> runs once (on a forwarding worker, so it must be short and must
    /// not wait for the engine) after frames move. Arm, then read the counters: frames counted after that read ring it.</summary>
    public void Arm(Action ring) => Interlocked.Exchange(ref _waiter, ring); // a full fence: the caller's next read follows it

    /// <summary>Worker side: runs and clears the armed callback, if any.</summary>
    internal void Ring()
    {
        Interlocked.MemoryBarrier(); // the counters written before, the bell read after (pairs with Arm's fence)
        if (Volatile.Read(ref _waiter) is null) return;
        Interlocked.Exchange(ref _waiter, null)?.Invoke();
    }
}
