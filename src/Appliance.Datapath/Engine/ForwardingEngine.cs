using Appliance.Interop;
using Appliance.Datapath.Xsk;

namespace Appliance.Datapath.Engine;

/// <summary>The forwarding engine: one <see cref="EngineWorker"/> per worker of its <see cref="XskPortSet"/> (each a
/// thread with its own sockets — RX queue w of every interface for worker w —, UMEM and frame handler; see
/// EngineWorker for the loop). A frame is received, decided and transmitted by one worker: it goes out on that
/// worker's socket of the target interface (its TX queue), so frames never cross workers and the per-frame path
/// takes no lock. Everything else goes through one barrier: <see cref="RunBetweenBatches"/> parks every worker
/// between two of its loops (no frame is in a batch anywhere), runs the change, and lets them go — the epoch
/// handover for port tables, topology and chain swaps, and the frame audit (<see cref="AccountFrames"/>).
/// Faults: a decision that throws drops that one frame (<see cref="DropReason.InternalError"/>); anything else that
/// escapes a worker's loop is caught, the interrupted batch is accounted (its frames dropped as InternalError, the
/// frames the worker held returned to the free stacks) and the loop restarts on the same thread with the same rings
/// (<see cref="WorkerRestarts"/>, <see cref="LastFault"/>). Dispose stops the workers, detaches XDP, closes the
/// sockets and frees the UMEMs.</summary>
public sealed class ForwardingEngine : IDisposable
{
    public const int Batch = 64;

    /// <summary>Rung by a worker that moved frames (see <see cref="TrafficBell"/>): the activity LEDs sleep on it.</summary>
    public TrafficBell Traffic { get; } = new();

    private readonly XskPortSet _set;
    private readonly EngineWorker[] _workers;
    private readonly EngineOptions _options;
    private volatile bool _stop;
    private volatile int _pauseRequested;
    // The barrier: workers park under _parkGate until _epoch moves on (a generation, so a release followed at once
    // by the next request can never be missed by a slow waker).
    private readonly object _parkGate = new(), _pauseLock = new();
    private int _parked;
    private long _epoch;
    private bool _started, _disposed;
    private readonly Links.LinkWatcher? _sharedLinks;
    private Links.LinkWatcher? _ownLinks;
    private IDisposable? _linkSubscription;
    private readonly Dictionary<(int From, int Ingress, int To), HandOffRing> _rings = [];
    // _rings' values for readers on other threads (status): the dictionary changes between batches, this is replaced.
    private HandOffRing[] _allRings = [];

    /// <summary>Worker 0's live sockets, in engine-index order (with one worker: every port).</summary>
    public IReadOnlyList<XskPort> Ports => _workers[0].Live;

    /// <summary>Every worker's live sockets (each port once per queue).</summary>
    public IReadOnlyList<XskPort> AllPorts => [.. _workers.SelectMany(w => w.Live)];

    /// <summary>Number of forwarding workers (threads).</summary>
    public int WorkerCount => _workers.Length;

    /// <summary>The CPU worker <paramref name="worker"/> is pinned to (null: not pinned).</summary>
    public int? CpuOf(int worker) => _options.CpuOf(worker);

    /// <summary>Worker <paramref name="worker"/>'s live sockets, in engine-index order.</summary>
    public IReadOnlyList<XskPort> PortsOf(int worker) => _workers[worker].Live;

    /// <summary>Worker 0's socket of engine port <paramref name="index"/> (its counters are worker 0's share: see
    /// <see cref="CountersOf(int)"/> for the port's total).</summary>
    public XskPort PortAt(int index) => PortAt(index, 0);

    /// <summary>Worker <paramref name="worker"/>'s socket of engine port <paramref name="index"/>.</summary>
    public XskPort PortAt(int index, int worker)
    {
        var ports = _workers[worker].Ports;
        return (uint)index < (uint)ports.Length && ports[index] is { } p ? p : throw new KeyNotFoundException($"no engine port {index} on worker {worker}");
    }

    /// <summary>Packets engine port <paramref name="index"/> received and sent, summed over every worker's socket: what an
    /// activity LED samples (allocates nothing, unlike <see cref="CountersOf(int)"/>).</summary>
    public long PacketsOf(int index)
    {
        long sum = 0;
        foreach (var w in _workers)
            foreach (var p in Volatile.Read(ref w.Live))
                if (p.Index == index) sum += p.Counters.RxPackets + p.Counters.TxPackets;
        return sum;
    }

    /// <summary>The counters of engine port <paramref name="index"/> summed over every worker's socket (a snapshot).</summary>
    public PortCounters CountersOf(int index)
    {
        var sum = new PortCounters();
        foreach (var w in _workers)
            foreach (var p in w.Live)
                if (p.Index == index) sum.Add(p.Counters); // every queue's socket (a worker may own several)
        return sum;
    }

    /// <summary>The kernel's AF_XDP counters of engine port <paramref name="index"/> (XDP_STATISTICS), summed over its
    /// sockets: what the kernel dropped before the workers saw it (RX ring full, no FILL frame) and descriptors it
    /// refused. One getsockopt per socket: for `stats`, never per frame. A socket that closes meanwhile (a reload
    /// removing the port) is left out. Counted since each socket was opened.</summary>
    public XdpStatistics KernelStatisticsOf(int index)
    {
        var sum = new XdpStatistics();
        foreach (var w in _workers)
            foreach (var p in w.Live)
                if (p.Index == index)
                {
                    try { sum += p.Statistics(); }
                    catch (PlatformException) { }
                }
        return sum;
    }

    /// <summary>The exception that ended a worker, if one did (only a setup failure such as an impossible CPU pin:
    /// faults in the loop restart it, see <see cref="WorkerRestarts"/>).</summary>
    public Exception? WorkerFailure { get; private set; }
    /// <summary>True while every worker runs.</summary>
    public bool IsRunning => _started && _workers.All(w => w.IsAlive);

    /// <summary>Times a forwarding loop failed and was restarted in place (same thread, rings, pairs).</summary>
    public long WorkerRestarts => Volatile.Read(ref _restarts);
    /// <summary>Decisions that threw (each dropped its frame as <see cref="DropReason.InternalError"/>).</summary>
    public long HandlerFaults => Volatile.Read(ref _handlerFaults);
    /// <summary>The last fault (loop restart or a decision that threw): what and when; null when there was none.</summary>
    public string? LastFault => Volatile.Read(ref _lastFault);
    private long _restarts, _handlerFaults;
    private string? _lastFault;
    private readonly Diagnostics.RateLimited _faultLog = new(5, TimeSpan.FromSeconds(10)), _restartLog = new(5, TimeSpan.FromSeconds(10));

    /// <summary>Swaps worker <paramref name="worker"/>'s decision (e.g. to a capturing wrapper and back); it takes
    /// effect at its next batch. True when <paramref name="expected"/> was the handler and <paramref name="next"/> replaced it.</summary>
    public bool TrySwapHandler(IFrameHandler expected, IFrameHandler next, int worker = 0) =>
        ReferenceEquals(Interlocked.CompareExchange(ref _workers[worker].Handler, next, expected), expected);

    /// <summary>Frames other workers handed to worker <paramref name="worker"/> (RX = taken from its hand-off rings,
    /// Forwarded = put on its TX rings, drops by reason): the one place frames cross workers.</summary>
    public PortCounters HandOffCountersOf(int worker) => _workers[worker].HandOffCounters;

    /// <summary>The counters of worker <paramref name="worker"/>'s sockets summed (its share of every port; a snapshot).</summary>
    public PortCounters CountersOfWorker(int worker)
    {
        var sum = new PortCounters();
        foreach (var p in _workers[worker].Live) sum.Add(p.Counters);
        return sum;
    }

    /// <summary>Frames worker <paramref name="worker"/> handed to other workers (the target interface had no socket
    /// on its queue).</summary>
    public long HandedOffBy(int worker)
    {
        long sum = 0;
        foreach (var r in Volatile.Read(ref _allRings))
            if (r.From == worker) sum += r.Pushed;
        return sum;
    }

    /// <summary>Bytes the worker threads have allocated so far (summed), sampled at each health check (every
    /// <see cref="EngineOptions.HealthInterval"/>): the hot path's allocation, free of every other thread's.</summary>
    public long WorkerAllocatedBytes => _workers.Sum(w => Volatile.Read(ref w.AllocatedBytesField));
    /// <summary>Worker loops run so far, all workers (each loop reaps, receives, refills and kicks every socket once).</summary>
    public long Loops => _workers.Sum(w => Volatile.Read(ref w.LoopsField));
    /// <summary>Times an idle worker went to sleep in poll(), all workers.</summary>
    public long Polls => _workers.Sum(w => Volatile.Read(ref w.PollsField));
    /// <summary>Times a busy-polling worker found its rings empty <see cref="EngineOptions.BusyPollYieldSpins"/> loops
    /// in a row and yielded its core, all workers.</summary>
    public long Yields => _workers.Sum(w => Volatile.Read(ref w.YieldsField));
    /// <summary>Times busy-polling worker <paramref name="worker"/> yielded its core.</summary>
    public long YieldsOf(int worker) => Volatile.Read(ref _workers[worker].YieldsField);
    /// <summary>Loops run by worker <paramref name="worker"/>.</summary>
    public long LoopsOf(int worker) => Volatile.Read(ref _workers[worker].LoopsField);
    /// <summary>Times worker <paramref name="worker"/> went to sleep in poll().</summary>
    public long PollsOf(int worker) => Volatile.Read(ref _workers[worker].PollsField);

    /// <summary>One handler shared by every worker: only for a handler without per-frame state (e.g.
    /// <see cref="StaticForwarding"/>); otherwise give each worker its own with the other constructor.</summary>
    public ForwardingEngine(XskPortSet ports, IFrameHandler handler, EngineOptions? options = null, Links.LinkWatcher? links = null)
        : this(ports, _ => handler, options, links)
    {
    }

    /// <param name="handlers">The decision of worker w (called once per worker, here): one VM, one set of per-batch
    /// snapshots each.</param>
    /// <param name="links">The watcher of the appliance's own namespace to subscribe to (its owner keeps it running
    /// while the engine runs); null: the engine starts one of its own.</param>
    public ForwardingEngine(XskPortSet ports, Func<int, IFrameHandler> handlers, EngineOptions? options = null, Links.LinkWatcher? links = null)
    {
        _sharedLinks = links;
        _set = ports;
        _options = options ?? new EngineOptions();
        _workers = new EngineWorker[Math.Max(1, ports.Workers)];
        for (int w = 0; w < _workers.Length; w++) _workers[w] = new EngineWorker(this, w, ports.PortsOf(w), handlers(w), _options);
        RebuildHandOffs();
    }

    /// <summary>Worker <paramref name="worker"/> itself (tests turn a worker of an engine not started by hand).</summary>
    internal EngineWorker WorkerAt(int worker) => _workers[worker];

    /// <summary>Wakes worker <paramref name="worker"/> if it sleeps in poll() (a worker that handed it frames).</summary>
    internal void WakeIfSleeping(int worker)
    {
        var w = _workers[worker];
        if (Volatile.Read(ref w.SleepingField) != 0) w.Wake();
    }

    /// <summary>While parked or before Start: for every engine port some worker has no socket of (an interface with
    /// fewer queues than workers: its sockets are on queues 0..q−1, owned by workers 0..q−1), worker w hands its
    /// frames for it to worker w mod q through a <see cref="HandOffRing"/> per ingress port (made once per route, kept).</summary>
    private void RebuildHandOffs()
    {
        const int M = Umem.MaxOwners;
        var inbound = new List<HandOffRing>[_workers.Length];
        for (int w = 0; w < _workers.Length; w++) inbound[w] = [];
        var handOffs = new HandOffRing?[_workers.Length][];
        int ports = _workers.Max(w => w.Ports.Length);
        for (int w = 0; w < _workers.Length; w++)
        {
            var mine = _workers[w];
            for (int t = 0; t < ports; t++)
            {
                if (t < mine.Ports.Length && mine.Ports[t] is not null) continue;
                int queues = _workers.Count(k => t < k.Ports.Length && k.Ports[t] is not null);
                if (queues == 0) continue;
                int owner = w % queues;
                foreach (int ingress in mine.Live.Select(p => p.Index).Distinct())
                {
                    if (!_rings.TryGetValue((w, ingress, owner), out var ring))
                        _rings[(w, ingress, owner)] = ring = new HandOffRing(w, owner, _set.Options.FrameSize);
                    (handOffs[w] ??= new HandOffRing?[M * M])[ingress * M + t] = ring;
                    if (!inbound[owner].Contains(ring)) inbound[owner].Add(ring);
                }
            }
        }
        Volatile.Write(ref _allRings, [.. _rings.Values]);
        for (int w = 0; w < _workers.Length; w++)
        {
            _workers[w].HandOffs = handOffs[w] ?? [];
            // Rings no longer used stay inbound until drained empty (a frame in one is never lost by a reconfiguration).
            _workers[w].Inbound = [.. inbound[w].Concat(_workers[w].Inbound.Where(r => r.Available(out _) > 0 && !inbound[w].Contains(r)))];
        }
    }

    public void Start()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_started) throw new InvalidOperationException("the forwarding engine is already started");
        _started = true;
        // An AF_XDP socket gives poll() nothing when its interface is unregistered (it only sets SO_ERROR), and an
        // idle worker sleeps without a timeout: the link watcher's RTM_DELLINK for one of our interfaces wakes the
        // workers to look (their health check), so a deleted interface is noticed at once, traffic or not.
        void OnError(Exception e) => _options.Log?.Invoke($"link watcher: {e.Message}");
        try
        {
            var links = _sharedLinks ?? (_ownLinks = new Links.LinkWatcher(onError: OnError));
            _linkSubscription = links.Subscribe(e =>
            {
                if (e.Kind == Links.LinkEventKind.Deleted && ServesInterface(e.Link.Index)) CheckPorts();
            }, OnError);
            // An interface deleted after the sockets were opened but before this subscription was never announced
            // to it: the workers' first turn looks.
            CheckPorts();
        }
        catch (Interop.PlatformException e)
        {
            _options.Log?.Invoke($"no link watcher ({e.Message}): a deleted interface is noticed at the worker's next wake-up");
        }
        foreach (var w in _workers)
        {
            w.Thread = new Thread(w.Run) { IsBackground = true, Name = _workers.Length == 1 ? "xsk-forwarder" : $"xsk-forwarder-{w.Index}" };
            w.Thread.Start();
        }
    }

    /// <summary>Whether a socket of some worker is bound to interface <paramref name="ifindex"/> (any thread: reads the
    /// workers' published tables).</summary>
    private bool ServesInterface(int ifindex)
    {
        foreach (var w in _workers)
            foreach (var p in Volatile.Read(ref w.Live))
                if (p.IfIndex == ifindex) return true;
        return false;
    }

    /// <summary>Has every worker run its health check (a vanished interface's socket is marked down, its frames
    /// reclaimed) at once instead of at its next wake-up; any thread. The engine calls it itself when one of its
    /// interfaces is deleted.</summary>
    public void CheckPorts()
    {
        foreach (var w in _workers)
        {
            Volatile.Write(ref w.CheckRequestedField, 1);
            w.Wake();
        }
    }

    /// <summary>Stops the workers and waits for them (each finishes its current batch).</summary>
    public void Stop()
    {
        _linkSubscription?.Dispose(); // no CheckPorts once this returns
        _ownLinks?.Dispose();
        lock (_parkGate)
        {
            _stop = true;
            Monitor.PulseAll(_parkGate);
        }
        foreach (var w in _workers)
        {
            w.Wake();
            w.Thread?.Join();
        }
    }

    internal bool StopRequested => _stop;
    internal bool PauseRequested => _pauseRequested != 0;

    /// <summary>Worker side of the barrier: counts itself parked and waits until the change is done.</summary>
    internal void Park(EngineWorker worker)
    {
        lock (_parkGate)
        {
            long epoch = _epoch;
            _parked++;
            Monitor.PulseAll(_parkGate);
            while (_epoch == epoch && !_stop) Monitor.Wait(_parkGate);
        }
    }

    internal void ReportSetupFailure(int worker, Exception e)
    {
        WorkerFailure = e;
        _options.Log?.Invoke($"forwarding worker {worker} failed: {e.Message}");
        SignalFault();
    }

    private readonly ManualResetEvent _faultEvent = new(false);
    private int _faultSignalled;

    /// <summary>Set when a worker faulted (<see cref="WorkerRestarts"/>, <see cref="HandlerFaults"/>, <see cref="LastFault"/>)
    /// or ended (<see cref="IsRunning"/>): whoever shows the datapath's health waits on it instead of polling, then
    /// calls <see cref="ResetFaultSignal"/> before it reads those. A storm of faults sets it once until then.</summary>
    public WaitHandle FaultSignal => _faultEvent;

    /// <summary>Clears <see cref="FaultSignal"/>; a fault after this sets it again.</summary>
    public void ResetFaultSignal()
    {
        _faultEvent.Reset();
        Interlocked.Exchange(ref _faultSignalled, 0); // a full fence: the caller's reads of the counters follow it
    }

    /// <summary>After the fault is counted: sets <see cref="FaultSignal"/> unless it is set already (no syscall per
    /// fault in a storm).</summary>
    internal void SignalFault()
    {
        if (Interlocked.Exchange(ref _faultSignalled, 1) == 0) _faultEvent.Set();
    }

    internal void ReportRestart(int worker, Exception e, int dropped)
    {
        long n = Volatile.Read(ref _restarts) + 1;
        Volatile.Write(ref _lastFault, $"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ssZ} worker restarted ({e.GetType().Name}: {e.Message})");
        if (_restartLog.TryEnter(out long suppressed))
            _options.Log?.Invoke($"forwarding worker{(_workers.Length > 1 ? $" {worker}" : "")} fault #{n}, restarting in place: {e.GetType().Name}: {e.Message}; " +
                                 $"{dropped} frames of the interrupted batch dropped as InternalError" +
                                 (suppressed > 0 ? $" ({suppressed} fault reports suppressed)" : ""));
        Interlocked.Increment(ref _restarts); // last: a reader that sees the count sees the fault, the log and the recovery
        SignalFault();
        // A fault on every batch must not turn into a hot spin; one on a rare frame costs nothing.
        Thread.Sleep((int)Math.Min(n, 100));
    }

    /// <summary>A socket whose frames come from no NAPI instance: its busy poll would run nothing, so it is off (once per socket).</summary>
    internal void ReportBusyPollOff(XskPort p) => _options.Log?.Invoke(p.Describe());

    internal void ReportHandlerFault(string where, Exception e)
    {
        long n = Interlocked.Increment(ref _handlerFaults);
        Volatile.Write(ref _lastFault, $"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ssZ} {where} threw ({e.GetType().Name}: {e.Message})");
        if (_faultLog.TryEnter(out long suppressed))
            _options.Log?.Invoke($"frame handler {where} threw (fault #{n}, frame dropped as InternalError): {e.GetType().Name}: {e.Message}" +
                                 (suppressed > 0 ? $" ({suppressed} fault reports suppressed)" : ""));
        SignalFault();
    }

    /// <summary>Counts every UMEM frame by place (free, fill, worker, TX) between two batches of every worker and
    /// cross-checks the frame ledger, the free stacks and the ring counters. Safe to call while the engine runs.</summary>
    public FrameAccount AccountFrames()
    {
        FrameAccount? account = null;
        RunBetweenBatches(() => account = BuildAccount());
        return account!;
    }

    private FrameAccount BuildAccount()
    {
        var problems = new List<string>();
        int total = 0, free = 0, fill = 0, app = 0, tx = 0;
        long violations = 0;
        var live = _workers.SelectMany(w => w.Live).ToArray();
        foreach (var umem in _set.Umems)
        {
            var c = umem.AccountFrames();
            total += c.Total;
            free += c.Free;
            fill += c.Count(FrameState.Fill);
            app += c.Count(FrameState.App);
            tx += c.Count(FrameState.Tx);
            violations += c.TransitionViolations;
            if (c.FirstViolation is not null) problems.Add(c.FirstViolation);
            if (c.FreeStackProblems > 0) problems.Add($"UMEM {umem.Name}: {c.FreeStackProblems} bad free-stack entries");
            if (c.FreeStackDepth != c.Free) problems.Add($"UMEM {umem.Name}: free stack holds {c.FreeStackDepth}, ledger says {c.Free} free");
            // The sockets of one engine port in one UMEM (a worker owning several queues of an interface) share its
            // owner tag in the ledger: compare their sums.
            foreach (var g in live.Where(p => ReferenceEquals(p.Umem, umem)).GroupBy(p => p.Index))
            {
                long expectFill = g.Sum(p => p.FillPosted - p.RxTaken - p.FillReclaimed);
                long expectTx = g.Sum(p => p.TxPosted - p.Completed - p.TxReclaimed);
                string what = $"{g.First().InterfaceName} queue {string.Join("+", g.Select(p => p.Queue))}";
                if (c.Count(g.Key, FrameState.Fill) != expectFill)
                    problems.Add($"{what}: ledger has {c.Count(g.Key, FrameState.Fill)} fill frames, rings say {expectFill}");
                if (c.Count(g.Key, FrameState.Tx) != expectTx)
                    problems.Add($"{what}: ledger has {c.Count(g.Key, FrameState.Tx)} TX frames, rings say {expectTx}");
            }
        }
        int leaked = app + (total - free - fill - app - tx);
        return new FrameAccount(total, free, fill, app, tx, leaked, violations, problems);
    }

    /// <summary>Runs <paramref name="action"/> while every worker is parked between two of its loops (no frame is in
    /// a batch anywhere: each worker's next batch sees the change, none sees half of it) and waits for it; inline
    /// when no worker runs. What the action throws is rethrown here. The workers' traffic waits at most for this.</summary>
    public void RunBetweenBatches(Action action, TimeSpan? timeout = null)
    {
        lock (_pauseLock)
        {
            if (!_started || _workers.All(w => !w.IsAlive))
            {
                action();
                return;
            }
            var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
            lock (_parkGate)
            {
                _parked = 0;
                _pauseRequested = 1;
            }
            try
            {
                foreach (var w in _workers) w.Wake();
                lock (_parkGate)
                {
                    while (_parked < _workers.Count(w => w.IsAlive))
                    {
                        if (_stop || _workers.All(w => !w.IsAlive))
                            throw new InvalidOperationException($"the forwarding workers stopped before taking the change: {WorkerFailure?.Message ?? "stopped"}");
                        if (DateTime.UtcNow >= deadline)
                            throw new TimeoutException($"the forwarding workers did not take the change in {(timeout ?? TimeSpan.FromSeconds(10)).TotalSeconds} s");
                        Monitor.Wait(_parkGate, 10);
                    }
                }
                action();
            }
            finally
            {
                lock (_parkGate)
                {
                    _pauseRequested = 0;
                    _epoch++;
                    Monitor.PulseAll(_parkGate);
                }
            }
        }
    }

    /// <summary>Inside <see cref="RunBetweenBatches"/> (or before Start), one worker only: starts serving an opened port (its engine
    /// index free, its UMEM its own or one the set owns); it joins the set and is disposed with it.</summary>
    internal void InstallPort(XskPort port)
    {
        if ((uint)port.Index >= Umem.MaxOwners) throw new ArgumentOutOfRangeException(nameof(port), port.Index, $"engine ports are 0..{Umem.MaxOwners - 1}");
        if ((uint)port.Worker >= (uint)_workers.Length) throw new ArgumentOutOfRangeException(nameof(port), port.Worker, $"workers are 0..{_workers.Length - 1}");
        _workers[port.Worker].Install(port);
        _set.Adopt(port);
        RebuildHandOffs();
    }

    /// <summary>Inside <see cref="RunBetweenBatches"/>: stops serving a port (its rings are no longer touched; the caller
    /// closes it next with <see cref="XskPortSet.Close"/>, which hands its frames back).</summary>
    internal void UninstallPort(XskPort port)
    {
        _workers[port.Worker].Uninstall(port);
        RebuildHandOffs();
    }

    /// <summary>Removes a port while the engine runs: off its worker's table between two batches, then closed here
    /// (XDP detached, socket closed, rings unmapped), then its frames are handed back to the UMEM's free stack (a UMEM
    /// of its own is freed).</summary>
    public void RemovePort(XskPort port) => RemovePort([port]);

    /// <summary>Removes every worker's socket of engine port <paramref name="index"/> (one per queue) while the engine
    /// runs, as <see cref="RemovePort(XskPort)"/> does for one.</summary>
    public void RemovePort(int index) => RemovePort([.. _workers.SelectMany(w => w.Live).Where(p => p.Index == index)]);

    private void RemovePort(IReadOnlyList<XskPort> sockets)
    {
        RunBetweenBatches(() => { foreach (var p in sockets) UninstallPort(p); });
        foreach (var p in sockets) p.Dispose();
        RunBetweenBatches(() => { foreach (var p in sockets) _set.Release(p, _workers[p.Worker].Live); });
    }

    /// <summary>Adds an opened port's sockets (<see cref="XskPortSet.OpenSeparate"/>: one per queue, each on its
    /// worker) while the engine runs; every worker takes them between two batches.</summary>
    public void AddPort(IReadOnlyList<XskPort> sockets) => RunBetweenBatches(() => { foreach (var p in sockets) InstallPort(p); });

    /// <summary>Adds one opened socket while the engine runs (its worker takes it between two batches).</summary>
    public void AddPort(XskPort port) => AddPort([port]);

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Stop();
        _set.Dispose();
        foreach (var w in _workers) w.Free();
        foreach (var r in _rings.Values) r.Dispose();
        _faultEvent.Dispose();
    }
}
