namespace Appliance.Datapath.Engine;

/// <summary>How the forwarding worker waits and reports.</summary>
public sealed record EngineOptions
{
    /// <summary>Spin forever instead of sleeping in poll() when idle (lowest latency, one core at 100 %).</summary>
    public bool BusyPoll { get; init; }
    /// <summary>With <see cref="BusyPoll"/>: empty loops after which the worker yields its core to anything else
    /// runnable there (sched_yield, returning at once when nothing is), so a producer sharing the core — a sender,
    /// ksoftirqd — is not held off it by the spinning; 0 never yields.</summary>
    public int BusyPollYieldSpins { get; init; } = 64;
    /// <summary>Pin worker w to <c>Cpus[w]</c> (sched_setaffinity; workers beyond the list are not pinned); null leaves
    /// them where the process may run.</summary>
    public IReadOnlyList<int>? Cpus { get; init; }

    /// <summary>The CPU worker <paramref name="worker"/> is pinned to, if any.</summary>
    public int? CpuOf(int worker) => Cpus is { } list && worker < list.Count ? list[worker] : null;
    /// <summary>Empty loop iterations after the last frame before the worker sleeps in poll() (a burst's next frames
    /// usually come sooner than a wake-up); after a wake-up that found nothing it sleeps again at once.</summary>
    public int IdleSpins { get; init; } = 2000;
    /// <summary>How often a worker that is awake (forwarding, or woken) checks its sockets for a vanished interface
    /// (SO_ERROR) and runs the handler's tick. An idle worker sleeps without a timeout: a deleted interface wakes it
    /// (the engine's link watcher, <see cref="ForwardingEngine.CheckPorts"/>), and it sets its own deadline only for
    /// the handler's next tick (<see cref="IFrameHandler.NextTick"/>: a MAC to age) and a pending TX reclaim.</summary>
    public TimeSpan HealthInterval { get; init; } = TimeSpan.FromMilliseconds(100);
    /// <summary>How long after an interface vanished its TX frames are reclaimed (late completions first).</summary>
    public TimeSpan TxReclaimGrace { get; init; } = TimeSpan.FromMilliseconds(500);
    /// <summary>Where events (port down, worker failure) are reported; called on the worker thread. The process's
    /// logger (source "engine", level warn) unless a test collects them.</summary>
    public Action<string>? Log { get; init; } = static m => Diagnostics.Log.Warn("engine", m);
}
