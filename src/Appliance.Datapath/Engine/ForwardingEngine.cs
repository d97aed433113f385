using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Appliance.Datapath.Xsk;
using Appliance.Interop;

namespace Appliance.Datapath.Engine;

/// <summary>The forwarding worker: one thread that owns every ring of a <see cref="XskPortSet"/>. Per loop it
/// returns completed TX frames to the free stack, receives up to 64 frames per port, asks the
/// <see cref="IFrameHandler"/> about each, puts forwarded descriptors on the target's TX ring unchanged (same UMEM)
/// or copied once (other UMEM), tops the FILL rings up and kicks TX only when the kernel asks for it (one sendto
/// per port per loop at most). Nothing is allocated and no syscall is made per packet. Ports can be added and
/// removed while it runs (<see cref="RunBetweenBatches"/> with <see cref="InstallPort"/>/<see cref="UninstallPort"/>):
/// the worker changes its port table between two loops, so the other ports' traffic never waits for it.
/// Every ring is served each loop with at most <see cref="Batch"/> frames, so one flooding port cannot starve the
/// others. Faults: a decision that throws drops that one frame (<see cref="DropReason.InternalError"/>); anything
/// else that escapes the loop is caught, the interrupted batch is accounted (its frames dropped as InternalError,
/// the frames the worker held returned to the free stacks) and the loop restarts on the same thread with the same
/// rings (<see cref="WorkerRestarts"/>, <see cref="LastFault"/>).
/// Dispose stops the worker, detaches XDP, closes the sockets and frees the UMEMs.</summary>
public sealed unsafe class ForwardingEngine : IDisposable
{
    public const int Batch = 64;
    private const int CompletionBatch = 256;

    private readonly XskPortSet _set;
    /// <summary>Live ports by engine index (null: no port there); <see cref="_live"/> the same ports densely.
    /// Both are replaced (never changed in place) by the worker between two loops.</summary>
    private XskPort?[] _ports;
    private XskPort[] _live;
    private IFrameHandler _handler;
    private readonly EngineOptions _options;
    private readonly XdpDesc* _staged;
    private readonly int[] _stagedCount;
    private readonly int[] _touched;
    private SocketCalls.PollFd[] _pollFds = [];
    private readonly WakeEvent _wake = new("forwarding worker");
    private readonly long _healthTicks, _reclaimTicks;

    private Thread? _worker;
    private volatile bool _stop;
    private volatile int _auditRequested;
    private FrameAccount? _auditResult;
    private readonly ManualResetEventSlim _auditDone = new(false);
    private readonly object _auditLock = new();
    private volatile int _workRequested;
    private Action? _work;
    private Exception? _workError;
    private bool _workServed;
    private readonly ManualResetEventSlim _workDone = new(false);
    private readonly object _workLock = new();
    private bool _disposed;

    /// <summary>The live ports, in engine-index order.</summary>
    public IReadOnlyList<XskPort> Ports => _live;

    /// <summary>The port with engine index <paramref name="index"/>.</summary>
    public XskPort PortAt(int index) => (uint)index < (uint)_ports.Length && _ports[index] is { } p ? p
        : throw new KeyNotFoundException($"no engine port {index}");
    /// <summary>The exception that ended the worker, if one did (only a setup failure such as an impossible CPU pin:
    /// faults in the loop restart it, see <see cref="WorkerRestarts"/>).</summary>
    public Exception? WorkerFailure { get; private set; }
    public bool IsRunning => _worker is { IsAlive: true };

    /// <summary>Times the forwarding loop failed and was restarted in place (same thread, rings, pairs).</summary>
    public long WorkerRestarts => Volatile.Read(ref _restarts);
    /// <summary>Decisions that threw (each dropped its frame as <see cref="DropReason.InternalError"/>).</summary>
    public long HandlerFaults => Volatile.Read(ref _handlerFaults);
    /// <summary>The last fault (loop restart or a decision that threw): what and when; null when there was none.</summary>
    public string? LastFault => Volatile.Read(ref _lastFault);
    private long _restarts, _handlerFaults;
    private string? _lastFault;
    private readonly Diagnostics.RateLimited _faultLog = new(5, TimeSpan.FromSeconds(10)), _restartLog = new(5, TimeSpan.FromSeconds(10));

    // The batch being received (for recovery after a fault): port, first RX index, size, frames taken so far.
    private XskPort? _batchPort, _batchIngress;
    private uint _batchIdx, _batchCount, _batchDone;

    /// <summary>The decision the worker asks, read once per batch: swapping it (e.g. to a capturing wrapper and back)
    /// takes effect at the next batch and costs the worker nothing. True when <paramref name="expected"/> was the
    /// handler and <paramref name="next"/> replaced it.</summary>
    public bool TrySwapHandler(IFrameHandler expected, IFrameHandler next) =>
        ReferenceEquals(Interlocked.CompareExchange(ref _handler, next, expected), expected);

    private long _workerAllocatedBytes;

    /// <summary>Bytes the worker thread has allocated so far, sampled at each health check (every
    /// <see cref="EngineOptions.HealthInterval"/>): the hot path's allocation, free of every other thread's.</summary>
    public long WorkerAllocatedBytes => Volatile.Read(ref _workerAllocatedBytes);

    private long _loopsField, _pollsField;
    /// <summary>Worker loops run so far (each reaps, receives, refills and kicks every port once).</summary>
    public long Loops => Volatile.Read(ref _loopsField);
    /// <summary>Times the idle worker went to sleep in poll().</summary>
    public long Polls => Volatile.Read(ref _pollsField);

    public ForwardingEngine(XskPortSet ports, IFrameHandler handler, EngineOptions? options = null)
    {
        _set = ports;
        _live = [.. ports.Ports];
        _ports = new XskPort?[_live.Length == 0 ? 0 : _live.Max(p => p.Index) + 1];
        foreach (var p in _live) _ports[p.Index] = p;
        _handler = handler;
        _options = options ?? new EngineOptions();
        _staged = (XdpDesc*)NativeMemory.AllocZeroed((nuint)(Umem.MaxOwners * Batch), (nuint)sizeof(XdpDesc));
        _stagedCount = new int[Umem.MaxOwners];
        _touched = new int[Umem.MaxOwners];
        _healthTicks = (long)(_options.HealthInterval.TotalSeconds * Stopwatch.Frequency);
        _reclaimTicks = (long)(_options.TxReclaimGrace.TotalSeconds * Stopwatch.Frequency);
        RebuildPollSet();
    }

    public void Start()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_worker is not null) throw new InvalidOperationException("the forwarding engine is already started");
        _worker = new Thread(Run) { IsBackground = true, Name = "xsk-forwarder" };
        _worker.Start();
    }

    /// <summary>Stops the worker and waits for it (at most one poll timeout plus the current batch).</summary>
    public void Stop()
    {
        _stop = true;
        _wake.Signal();
        _worker?.Join();
    }

    private void Run()
    {
        try
        {
            try
            {
                if (_options.Cpu is int cpu) XskThreadAffinity.PinCurrentThread(cpu);
            }
            catch (Exception e)
            {
                WorkerFailure = e;
                _options.Log?.Invoke($"forwarding worker failed: {e.Message}");
                return;
            }
            while (!_stop)
            {
                try
                {
                    Loop();
                }
                catch (Exception e)
                {
                    long n = Volatile.Read(ref _restarts) + 1;
                    Volatile.Write(ref _lastFault, $"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ssZ} worker restarted ({e.GetType().Name}: {e.Message})");
                    int dropped = Recover();
                    if (_restartLog.TryEnter(out long suppressed))
                        _options.Log?.Invoke($"forwarding worker fault #{n}, restarting in place: {e.GetType().Name}: {e.Message}; " +
                                             $"{dropped} frames of the interrupted batch dropped as InternalError" +
                                             (suppressed > 0 ? $" ({suppressed} fault reports suppressed)" : ""));
                    Interlocked.Increment(ref _restarts); // last: a reader that sees the count sees the fault, the log and the recovery
                    // A fault on every batch must not turn into a hot spin; one on a rare frame costs nothing.
                    Thread.Sleep((int)Math.Min(n, 100));
                }
            }
        }
        finally
        {
            _auditDone.Set();
            _workDone.Set();
        }
    }

    /// <summary>Puts the rings and the frame ledger back in order after the loop threw: the interrupted batch's
    /// frames not yet taken are released from the RX ring and freed, frames the worker held (staged or in hand) go
    /// back to the free stacks. All of them count as <see cref="DropReason.InternalError"/> on the ingress port.</summary>
    private int Recover()
    {
        int dropped = 0;
        if (_batchPort is { } p)
        {
            for (uint k = _batchDone; k < _batchCount; k++)
            {
                ulong addr = p.Rx.Desc(_batchIdx + k).Addr;
                p.Umem.Move(addr, FrameState.Fill, FrameState.App, p.Index);
                p.Umem.Free(addr, FrameState.App);
                dropped++;
            }
            p.Rx.Release(_batchCount);
            p.RxTaken += _batchCount;
            p.Counters.RxPacketsField += _batchCount;
            _batchPort = null;
        }
        for (int t = 0; t < _stagedCount.Length; t++) _stagedCount[t] = 0;
        foreach (var q in _live) dropped += q.Umem.Reclaim(q.Index, FrameState.App);
        if (_batchIngress is { } ingress) ingress.Counters.DropsField[(int)DropReason.InternalError] += dropped;
        return dropped;
    }

    /// <summary>The handler's decision; if it throws, that frame is dropped (InternalError) and the batch goes on.</summary>
    private FrameVerdict DecideGuarded(IFrameHandler handler, ref FrameView view)
    {
        try
        {
            return handler.Decide(ref view);
        }
        catch (Exception e)
        {
            ReportHandlerFault("decision", e);
            return FrameVerdict.Drop(DropReason.InternalError);
        }
    }

    private void ReportHandlerFault(string where, Exception e)
    {
        long n = Interlocked.Increment(ref _handlerFaults);
        Volatile.Write(ref _lastFault, $"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ssZ} {where} threw ({e.GetType().Name}: {e.Message})");
        if (_faultLog.TryEnter(out long suppressed))
            _options.Log?.Invoke($"frame handler {where} threw (fault #{n}, frame dropped as InternalError): {e.GetType().Name}: {e.Message}" +
                                 (suppressed > 0 ? $" ({suppressed} fault reports suppressed)" : ""));
    }

    private void Loop()
    {
        long nextHealth = Stopwatch.GetTimestamp() + _healthTicks;
        int idle = 0;
        uint loops = 0;
        while (!_stop)
        {
            var ports = _live;
            bool progress = false;
            for (int i = 0; i < ports.Length; i++) progress |= ReapCompletions(ports[i]);
            for (int i = 0; i < ports.Length; i++)
                if (!ports[i].IsDownFlag) progress |= Receive(ports[i]);
            for (int i = 0; i < ports.Length; i++)
            {
                var p = ports[i];
                if (p.IsDownFlag) continue;
                Refill(p);
                KickTx(p);
            }
            if (_auditRequested != 0) ServeAudit();
            if (_workRequested != 0) ServeWork();
            _loopsField++;
            if ((++loops & 255) == 0 && Stopwatch.GetTimestamp() >= nextHealth)
            {
                CheckHealth();
                nextHealth = Stopwatch.GetTimestamp() + _healthTicks;
            }
            if (progress) { idle = 0; continue; }
            if (_options.BusyPoll || ++idle < _options.IdleSpins) continue;
            _pollsField++;
            // Asleep until a socket has work (need_wakeup: the kernel wakes us), the wake event (stop, a change to take
            // between batches, an audit) or the timeout (health checks, the handler's tick). After a quiet wake-up the
            // worker looks once and sleeps again; after a busy one it spins IdleSpins loops before sleeping.
            int ready = PollNative.Wait(_pollFds, _options.PollTimeoutMs);
            if ((_pollFds[^1].REvents & SocketCalls.POLLIN) != 0)
            {
                _wake.Drain();
                ready--;
            }
            idle = ready > 0 ? 0 : _options.IdleSpins - 1;
            if (Stopwatch.GetTimestamp() >= nextHealth)
            {
                CheckHealth();
                nextHealth = Stopwatch.GetTimestamp() + _healthTicks;
            }
        }
    }

    /// <summary>COMPLETION ring → free stack.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool ReapCompletions(XskPort p)
    {
        if (p.IsDownFlag && !p.TxReclaimPending) return false;
        uint n = p.Completion.Peek(CompletionBatch, out uint idx);
        if (n == 0) return false;
        var umem = p.Umem;
        for (uint k = 0; k < n; k++) umem.Free(p.Completion.Addr(idx + k), FrameState.Tx);
        p.Completion.Release(n);
        p.Completed += n;
        return true;
    }

    /// <summary>RX ring → decisions → staged TX descriptors per target → TX rings.</summary>
    private bool Receive(XskPort p)
    {
        uint n = p.Rx.Peek(Batch, out uint idx);
        p.UnderLoad = n == Batch;
        if (n == 0) return false;
        _batchPort = _batchIngress = p;
        _batchIdx = idx;
        _batchCount = n;
        _batchDone = 0;
        var handler = Volatile.Read(ref _handler);
        handler.BeginBatch();
        var umem = p.Umem;
        uint maxLen = umem.MaxFrameLength;
        int touched = 0;
        long bytes = 0;
        var c = p.Counters;
        for (uint k = 0; k < n; k++)
        {
            ref XdpDesc d = ref p.Rx.Desc(idx + k);
            ulong addr = d.Addr;
            uint len = d.Len;
            bytes += len;
            umem.Move(addr, FrameState.Fill, FrameState.App, p.Index);
            _batchDone = k + 1;
            if (len < 14 || len > maxLen)
            {
                Drop(umem, addr, c, DropReason.InvalidFrame);
                continue;
            }
            ulong chunk = umem.ChunkStart(addr);
            var view = new FrameView(umem.Pointer(chunk), umem.FrameSize, (uint)(addr - chunk), len, p.Index);
            var verdict = DecideGuarded(handler, ref view);
            if (verdict.Kind != VerdictKind.Forward)
            {
                Drop(umem, addr, c, verdict.Reason);
                continue;
            }
            int t = verdict.TargetPort;
            var target = (uint)t < (uint)_ports.Length ? _ports[t] : null;
            if (target is null)
            {
                Drop(umem, addr, c, DropReason.NoTarget);
                continue;
            }
            if (target.IsDownFlag)
            {
                Drop(umem, addr, c, DropReason.TargetDown);
                continue;
            }
            ulong outAddr = chunk + view.Offset;
            uint outLen = (uint)view.Length;
            if (!ReferenceEquals(target.Umem, umem))
            {
                // The one copy: the frame crosses into the target's UMEM.
                if (!target.Umem.TryAllocate(FrameState.App, t, out ulong copy))
                {
                    Drop(umem, addr, c, DropReason.NoFreeFrame);
                    continue;
                }
                Buffer.MemoryCopy(view.DataPointer, target.Umem.Pointer(copy + view.Offset), outLen, outLen);
                umem.Free(addr, FrameState.App);
                outAddr = copy + view.Offset;
            }
            int s = _stagedCount[t];
            if (s == 0) _touched[touched++] = t;
            ref XdpDesc o = ref _staged[t * Batch + s];
            o.Addr = outAddr;
            o.Len = outLen;
            o.Options = 0;
            _stagedCount[t] = s + 1;
        }
        p.Rx.Release(n);
        _batchPort = null;
        p.RxTaken += n;
        c.RxPacketsField += n;
        c.RxBytesField += bytes;
        for (int i = 0; i < touched; i++) Flush(_touched[i], c);
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Drop(Umem umem, ulong addr, PortCounters ingress, DropReason reason)
    {
        umem.Free(addr, FrameState.App);
        ingress.DropsField[(int)reason]++;
    }

    /// <summary>Staged descriptors → target TX ring; what does not fit is dropped as RingFull on the ingress port.</summary>
    private void Flush(int t, PortCounters ingress)
    {
        var tp = _ports[t]!;
        int s = _stagedCount[t];
        _stagedCount[t] = 0;
        XdpDesc* staged = _staged + t * Batch;
        uint got = tp.Tx.Reserve((uint)s, out uint ti);
        long bytes = 0;
        var umem = tp.Umem;
        for (uint j = 0; j < got; j++)
        {
            tp.Tx.Desc(ti + j) = staged[j];
            umem.Move(staged[j].Addr, FrameState.App, FrameState.Tx, t);
            bytes += staged[j].Len;
        }
        if (got > 0)
        {
            tp.Tx.Submit(got);
            tp.TxPosted += got;
            tp.Counters.TxPacketsField += got;
            tp.Counters.TxBytesField += bytes;
            ingress.ForwardedField += got;
        }
        for (uint j = got; j < (uint)s; j++) Drop(umem, staged[j].Addr, ingress, DropReason.RingFull);
    }

    /// <summary>Free stack → FILL ring, up to the port's share; wakes a zero-copy driver if it asks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Refill(XskPort p)
    {
        long held = p.FillPosted - p.RxTaken - p.FillReclaimed;
        long want = p.FillFrames - held;
        if (want >= Batch || (want > 0 && held < Batch)) p.PostFill((uint)want);
        if (p.BindMode == XskBindMode.ZeroCopy && p.Fill.NeedsWakeup) p.Socket.KickRx();
        else if (p.UnderLoad && p.BusyPoll)
        {
            // Adaptive busy poll: only while this port's batches come full does the worker drive its NAPI itself
            // (one recvfrom per port per loop, i.e. per 64 frames at most); otherwise the softirq delivers.
            p.Socket.KickRx();
            p.Counters.BusyPollsField++;
        }
    }

    /// <summary>One sendto() when the TX ring holds frames and the kernel wants a wake-up (always, in copy mode).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void KickTx(XskPort p)
    {
        if (p.Tx.Outstanding == 0 || !p.Tx.NeedsWakeup) return;
        int err = p.Socket.KickTx();
        p.Counters.KicksField++;
        if (err is not (0 or Errno.EAGAIN or Errno.EBUSY or Errno.ENOBUFS)) p.Counters.KickErrorsField++;
    }

    /// <summary>Finds ports whose interface vanished (the kernel sets SO_ERROR=ENETDOWN when it unregisters) and
    /// finishes reclaiming the TX frames of ports that went down a while ago.</summary>
    private void CheckHealth()
    {
        Volatile.Write(ref _workerAllocatedBytes, GC.GetAllocatedBytesForCurrentThread());
        long now = Stopwatch.GetTimestamp();
        try
        {
            Volatile.Read(ref _handler).Tick(now);
        }
        catch (Exception e)
        {
            ReportHandlerFault("tick", e);
        }
        foreach (var p in _live)
        {
            if (!p.IsDownFlag)
            {
                int err = p.Socket.TakeSocketError();
                if (err != 0) MarkDown(p, err, now);
            }
            else if (p.TxReclaimPending && now - p.DownSinceTicks >= _reclaimTicks)
            {
                ReapCompletions(p);
                p.TxReclaimPending = false;
                p.TxReclaimed += p.Umem.Reclaim(p.Index, FrameState.Tx);
            }
        }
    }

    private void MarkDown(XskPort p, int err, long now)
    {
        p.DownReason = $"{Errno.Name(err)}: {p.InterfaceName} was unregistered (deleted, or its namespace deleted)";
        p.IsDownFlag = true;
        p.DownSinceTicks = now;
        p.TxReclaimPending = true;
        int reclaimed = p.Umem.Reclaim(p.Index, FrameState.Fill);
        p.FillReclaimed += reclaimed;
        RebuildPollSet();
        _options.Log?.Invoke($"port {p.Index} ({p.InterfaceName} queue {p.Queue}) is down: {p.DownReason}; " +
                             $"{reclaimed} receive frames reclaimed; frames for it are now dropped as TargetDown");
    }

    /// <summary>The live sockets, then the wake event (always last).</summary>
    private void RebuildPollSet() =>
        _pollFds = [.. _live.Where(p => !p.IsDownFlag)
            .Select(p => new SocketCalls.PollFd { Fd = p.Socket.Fd, Events = SocketCalls.POLLIN }), _wake.PollEntry];

    /// <summary>Counts every UMEM frame by place (free, fill, worker, TX) between two batches and cross-checks the
    /// frame ledger, the free stacks and the ring counters. Safe to call while the engine runs.</summary>
    public FrameAccount AccountFrames()
    {
        lock (_auditLock)
        {
            if (_worker is not { IsAlive: true }) return BuildAccount();
            _auditDone.Reset();
            _auditRequested = 1;
            _wake.Signal();
            if (!_auditDone.Wait(TimeSpan.FromSeconds(10)))
                throw new TimeoutException("the forwarding worker did not answer the frame audit in 10 s");
            return _auditResult ?? BuildAccount();
        }
    }

    private void ServeAudit()
    {
        _auditResult = BuildAccount();
        _auditRequested = 0;
        _auditDone.Set();
    }

    private FrameAccount BuildAccount()
    {
        var problems = new List<string>();
        int total = 0, free = 0, fill = 0, app = 0, tx = 0;
        long violations = 0;
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
            foreach (var p in _live)
            {
                if (!ReferenceEquals(p.Umem, umem)) continue;
                long expectFill = p.FillPosted - p.RxTaken - p.FillReclaimed;
                long expectTx = p.TxPosted - p.Completed - p.TxReclaimed;
                if (c.Count(p.Index, FrameState.Fill) != expectFill)
                    problems.Add($"{p.InterfaceName}: ledger has {c.Count(p.Index, FrameState.Fill)} fill frames, rings say {expectFill}");
                if (c.Count(p.Index, FrameState.Tx) != expectTx)
                    problems.Add($"{p.InterfaceName}: ledger has {c.Count(p.Index, FrameState.Tx)} TX frames, rings say {expectTx}");
            }
        }
        int leaked = app + (total - free - fill - app - tx);
        return new FrameAccount(total, free, fill, app, tx, leaked, violations, problems);
    }

    /// <summary>Runs <paramref name="action"/> on the worker between two loops (no frame is in a batch then) and
    /// waits for it; inline when the worker is not running. What the action throws is rethrown here. For changes
    /// of the port table and of what the frame handler reads: the other ports' traffic waits at most for this.</summary>
    public void RunBetweenBatches(Action action, TimeSpan? timeout = null)
    {
        lock (_workLock)
        {
            if (_worker is not { IsAlive: true })
            {
                action();
                return;
            }
            _workDone.Reset();
            _workError = null;
            _workServed = false;
            _work = action;
            _workRequested = 1;
            _wake.Signal();
            if (!_workDone.Wait(timeout ?? TimeSpan.FromSeconds(10)))
                throw new TimeoutException("the forwarding worker did not take the change in 10 s");
            if (!_workServed)
            {
                _work = null;
                _workRequested = 0;
                throw new InvalidOperationException($"the forwarding worker stopped before taking the change: {WorkerFailure?.Message ?? "stopped"}");
            }
            if (_workError is { } e) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e);
        }
    }

    private void ServeWork()
    {
        try { _work?.Invoke(); }
        catch (Exception e) { _workError = e; }
        finally
        {
            _work = null;
            _workServed = true;
            _workRequested = 0;
            _workDone.Set();
        }
    }

    /// <summary>Worker only (inside <see cref="RunBetweenBatches"/>): starts serving an opened port (its engine
    /// index free, its UMEM its own or one the set owns); it joins the set and is disposed with it.</summary>
    internal void InstallPort(XskPort port)
    {
        if ((uint)port.Index >= Umem.MaxOwners) throw new ArgumentOutOfRangeException(nameof(port), port.Index, $"engine ports are 0..{Umem.MaxOwners - 1}");
        if (port.Index < _ports.Length && _ports[port.Index] is not null) throw new InvalidOperationException($"engine port {port.Index} is in use");
        var byIndex = new XskPort?[Math.Max(_ports.Length, port.Index + 1)];
        _ports.CopyTo(byIndex, 0);
        byIndex[port.Index] = port;
        _set.Adopt(port);
        _ports = byIndex;
        _live = [.. byIndex.Where(p => p is not null).Select(p => p!)];
        RebuildPollSet();
    }

    /// <summary>Worker only: stops serving a port (its rings are no longer touched; the caller closes it next with
    /// <see cref="XskPortSet.Close"/>, which hands its frames back).</summary>
    internal void UninstallPort(XskPort port)
    {
        if ((uint)port.Index >= (uint)_ports.Length || !ReferenceEquals(_ports[port.Index], port)) return;
        var byIndex = (XskPort?[])_ports.Clone();
        byIndex[port.Index] = null;
        _ports = byIndex;
        _live = [.. byIndex.Where(p => p is not null).Select(p => p!)];
        RebuildPollSet();
    }

    /// <summary>Removes a port while the engine runs: off the worker's table between two batches, then closed here
    /// (XDP detached, socket closed, rings unmapped), then its frames are handed back to the UMEM's free stack on
    /// the worker (a UMEM of its own is freed).</summary>
    public void RemovePort(XskPort port)
    {
        RunBetweenBatches(() => UninstallPort(port));
        port.Dispose();
        RunBetweenBatches(() => _set.Release(port, _live));
    }

    /// <summary>Adds an opened port (<see cref="XskPortSet.OpenSeparate"/>) while the engine runs.</summary>
    public void AddPort(XskPort port) => RunBetweenBatches(() => InstallPort(port));

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Stop();
        _set.Dispose();
        NativeMemory.Free(_staged);
        _wake.Dispose();
        _auditDone.Dispose();
        _workDone.Dispose();
    }
}
