using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using Appliance.Datapath.Xsk;
using Appliance.Interop;

namespace Appliance.Datapath.Engine;

/// <summary>One forwarding worker of a <see cref="ForwardingEngine"/>: one thread (pinned when the options say so)
/// that owns its own sockets — one per interface, on the RX queue assigned to it — their rings and its own UMEM(s),
/// and its own <see cref="IFrameHandler"/>. Nothing of it is shared with another worker, so the per-frame path takes
/// no lock. Per loop it returns completed TX frames to the free stack, receives up to <see cref="ForwardingEngine.Batch"/>
/// frames per socket, asks its handler about each, puts forwarded descriptors on the target's TX ring (its own socket
/// on the target interface) unchanged (same UMEM) or copied once (other UMEM), tops the FILL rings up and kicks TX
/// only when the kernel asks. Nothing is allocated and no syscall is made per packet. Idle, it sleeps in poll() on its
/// sockets and its <see cref="WakeEvent"/> without a timeout unless something of its own falls due (a MAC to age, a
/// reclaim): an idle worker makes no wake-up at all; between two loops it parks when the engine asks (<see cref="ForwardingEngine.RunBetweenBatches"/>).</summary>
internal sealed unsafe class EngineWorker
{
    private const int Batch = ForwardingEngine.Batch;
    private const int CompletionBatch = 256;

    private readonly ForwardingEngine _engine;
    private readonly EngineOptions _options;
    private readonly XdpDesc* _staged;
    private readonly int[] _stagedCount;
    private readonly int[] _touched;
    private readonly long _healthTicks, _reclaimTicks;
    private readonly WakeEvent _wake;
    private Tmds.Linux.pollfd[] _pollFds = [];
    private int _prefetched; // where PrefetchHeaders' loads go without SSE (so that they are not dropped)

    /// <summary>Live sockets by engine index (null: none there); <see cref="Live"/> the same densely. Replaced, never
    /// changed in place, while the worker is parked or by the worker itself.</summary>
    internal XskPort?[] Ports;
    internal XskPort[] Live;
    internal IFrameHandler Handler;
    internal Thread? Thread;
    internal volatile bool Stopped;

    public int Index { get; }

    internal long LoopsField, PollsField, YieldsField, AllocatedBytesField;

    /// <summary>By ingress engine index × <see cref="Umem.MaxOwners"/> + target engine index: the ring to the worker
    /// that owns the target interface's socket when this worker has none there (the interface has fewer queues than
    /// there are workers); null: its own socket, or no such port. One ring per ingress port, so the owner drains each
    /// source's frames in turn (at most a batch each per loop) and a flooding tenant cannot crowd out another's.</summary>
    internal HandOffRing?[] HandOffs = [];
    /// <summary>Rings other workers hand frames to this one through.</summary>
    internal HandOffRing[] Inbound = [];
    /// <summary>Frames other workers handed to this one: Forwarded = put on a TX ring, drops by reason.</summary>
    internal readonly PortCounters HandOffCounters = new();
    /// <summary>1 while the worker sleeps (or is about to) in poll(): a worker that hands it frames wakes it.</summary>
    internal int SleepingField;
    private ulong _wakeAfterBatch;
    /// <summary>1: run the health check at the next wake-up (<see cref="ForwardingEngine.CheckPorts"/> sets it and wakes the worker).</summary>
    internal int CheckRequestedField;
    /// <summary>The earliest TX reclaim of a port gone down (<see cref="long.MaxValue"/>: none pending); worker-only.</summary>
    private long _reclaimDue = long.MaxValue;
    /// <summary>Frames went through since the worker last rang <see cref="ForwardingEngine.Traffic"/> (it rings it before
    /// its next sleep, or at its next health check while it stays awake).</summary>
    private bool _movedSinceSleep;

    // The batch being received (for recovery after a fault): port, first RX index, size, frames taken so far.
    private XskPort? _batchPort, _batchIngress;
    private uint _batchIdx, _batchCount, _batchDone;

    internal EngineWorker(ForwardingEngine engine, int index, IEnumerable<XskPort> ports, IFrameHandler handler, EngineOptions options)
    {
        _engine = engine;
        Index = index;
        _options = options;
        Handler = handler;
        Live = [.. ports];
        Ports = new XskPort?[Live.Length == 0 ? 0 : Live.Max(p => p.Index) + 1];
        foreach (var p in Live) Ports[p.Index] ??= p; // its first socket of an interface transmits; all of them receive
        _staged = (XdpDesc*)NativeMemory.AllocZeroed((nuint)(Umem.MaxOwners * Batch), (nuint)sizeof(XdpDesc));
        _stagedCount = new int[Umem.MaxOwners];
        _touched = new int[Umem.MaxOwners];
        _healthTicks = (long)(options.HealthInterval.TotalSeconds * Stopwatch.Frequency);
        _reclaimTicks = (long)(options.TxReclaimGrace.TotalSeconds * Stopwatch.Frequency);
        _wake = new WakeEvent($"forwarding worker {index}");
        RebuildPollSet();
    }

    /// <summary>Wakes the worker if it sleeps in poll() (any thread).</summary>
    internal void Wake() => _wake.Signal();

    internal bool IsAlive => Thread is { IsAlive: true } && !Stopped;

    internal void Run()
    {
        try
        {
            try
            {
                if (_options.CpuOf(Index) is int cpu) ThreadAffinity.PinCurrentThread(cpu);
            }
            catch (Exception e)
            {
                _engine.ReportSetupFailure(Index, e);
                return;
            }
            while (!_engine.StopRequested)
            {
                try
                {
                    Loop();
                }
                catch (Exception e)
                {
                    int dropped = Recover();
                    _engine.ReportRestart(Index, e, dropped);
                }
            }
        }
        finally
        {
            Stopped = true;
            if (!_engine.StopRequested) _engine.SignalFault(); // it ended on its own: IsRunning is false now
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
        foreach (var q in Live) dropped += q.Umem.Reclaim(q.Index, FrameState.App);
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
            _engine.ReportHandlerFault("decision", e);
            return FrameVerdict.Drop(DropReason.InternalError);
        }
    }

    private void Loop()
    {
        long nextHealth = Stopwatch.GetTimestamp() + _healthTicks;
        int idle = 0;
        uint loops = 0;
        while (!_engine.StopRequested)
        {
            bool progress = Turn();
            if (_engine.PauseRequested) _engine.Park(this);
            LoopsField++;
            if ((++loops & 255) == 0 && Stopwatch.GetTimestamp() >= nextHealth)
            {
                CheckHealth();
                nextHealth = Stopwatch.GetTimestamp() + _healthTicks;
                if (_movedSinceSleep) // busy for a while: frames move
                {
                    _movedSinceSleep = false;
                    _engine.Traffic.Ring();
                }
            }
            if (progress) { idle = 0; _movedSinceSleep = true; continue; }
            if (_options.BusyPoll)
            {
                if (++idle >= _options.BusyPollYieldSpins && _options.BusyPollYieldSpins > 0) BusyPollYield(ref idle);
                continue;
            }
            if (++idle < _options.IdleSpins) continue;
            // Tell the workers that hand frames to this one to wake it, then look once more (they look at the flag
            // after their push: one of the two always sees the other).
            Volatile.Write(ref SleepingField, 1);
            Interlocked.MemoryBarrier();
            if (Inbound.Length != 0 && HandOffsWaiting())
            {
                Volatile.Write(ref SleepingField, 0);
                idle = 0;
                continue;
            }
            if (_movedSinceSleep)
            {
                _movedSinceSleep = false;
                _engine.Traffic.Ring(); // frames went through since the last sleep: whoever waits for traffic hears it
            }
            PollsField++;
            // Asleep until a socket has work (need_wakeup: the kernel wakes us), the wake event (stop, a change to take
            // between batches, an audit, an interface of ours deleted: see ForwardingEngine.CheckPorts) or the next
            // deadline of its own (the handler's tick when something ages, a TX reclaim of a port gone down); with
            // none of those it sleeps without a timeout. After a quiet wake-up the worker looks once and sleeps again;
            // after a busy one it spins IdleSpins loops before sleeping.
            long deadline = SleepDeadline();
            int ready = PollNative.Wait(_pollFds, TimeoutMs(deadline));
            Volatile.Write(ref SleepingField, 0);
            if (PollNative.HasInput(_pollFds[^1]))
            {
                _wake.Drain();
                ready--;
            }
            idle = ready > 0 ? 0 : _options.IdleSpins - 1;
            // A wake-up after a long sleep runs the health check first (it sets the handler's clock before frames are
            // decided), as does one asked for (an interface deleted) and one at the deadline.
            long now = Stopwatch.GetTimestamp();
            if (Interlocked.Exchange(ref CheckRequestedField, 0) != 0 || now >= nextHealth || now >= deadline)
            {
                CheckHealth();
                nextHealth = Stopwatch.GetTimestamp() + _healthTicks;
            }
        }
    }

    /// <summary>One turn over the worker's sockets: completed TX frames back to the free stack, frames handed over by
    /// other workers, one RX batch of every socket decided and put on TX rings, FILL topped up, TX kicked where the
    /// kernel asks. True when anything moved.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool Turn()
    {
        var ports = Live;
        bool progress = false;
        for (int i = 0; i < ports.Length; i++) progress |= ReapCompletions(ports[i]);
        if (Inbound.Length != 0) progress |= DrainHandOffs();
        for (int i = 0; i < ports.Length; i++)
            if (!ports[i].IsDownFlag) progress |= Receive(ports[i]);
        for (int i = 0; i < ports.Length; i++)
        {
            var p = ports[i];
            if (p.IsDownFlag) continue;
            Refill(p);
            KickTx(p);
        }
        return progress;
    }

    /// <summary>When the sleeping worker must run its health check without being woken: the handler's next tick
    /// (<see cref="IFrameHandler.NextTick"/>) or the TX reclaim of a port gone down, whichever comes first;
    /// <see cref="long.MaxValue"/> when neither waits.</summary>
    private long SleepDeadline()
    {
        long deadline = _reclaimDue;
        try
        {
            deadline = Math.Min(deadline, Volatile.Read(ref Handler).NextTick);
        }
        catch (Exception e)
        {
            _engine.ReportHandlerFault("next tick", e);
            deadline = Math.Min(deadline, Stopwatch.GetTimestamp() + _healthTicks);
        }
        return deadline;
    }

    /// <summary>poll()'s timeout for <paramref name="deadline"/> (a Stopwatch timestamp): −1 (none) for
    /// <see cref="long.MaxValue"/>, else the milliseconds until then, rounded up (a wake-up a little early would
    /// find nothing due and cost another).</summary>
    internal static int TimeoutMs(long deadline, long now = 0)
    {
        if (deadline == long.MaxValue) return -1;
        if (now == 0) now = Stopwatch.GetTimestamp();
        if (deadline <= now) return 0;
        long ticksPerMs = Math.Max(1, Stopwatch.Frequency / 1000);
        long ms = (deadline - now + ticksPerMs - 1) / ticksPerMs;
        return ms >= int.MaxValue ? int.MaxValue : (int)ms;
    }

    /// <summary>A busy-polling worker whose rings stayed empty for <see cref="EngineOptions.BusyPollYieldSpins"/> loops
    /// gives its core to whatever else is runnable there (sched_yield; it returns at once when nothing is). What
    /// shares the core is often what feeds it — the softirq thread or a local sender putting frames on its queue —:
    /// spinning on until the scheduler preempts it keeps that producer off the core, its FILL ring runs dry meanwhile
    /// (the kernel drops: rx_fill_ring_empty_descs) and the loops it spins cost CPU without moving a frame.</summary>
    private void BusyPollYield(ref int idle)
    {
        idle = 0;
        YieldsField++;
        Thread.Yield();
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
        var handler = Volatile.Read(ref Handler);
        handler.BeginBatch();
        var umem = p.Umem;
        PrefetchHeaders(p.Rx, idx, n, umem);
        uint maxLen = umem.MaxFrameLength;
        int touched = 0;
        long bytes = 0;
        var c = p.Counters;
        var targets = Ports;
        for (uint k = 0; k < n; k++)
        {
            PrefetchAhead(p.Rx, idx, k, n, umem);
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
            var target = (uint)t < (uint)targets.Length ? targets[t] : null;
            if (target is null)
            {
                // No socket of this worker on the target: hand a copy to the worker that has one (or none exists).
                int route = p.Index * Umem.MaxOwners + t;
                var ring = (uint)route < (uint)HandOffs.Length ? HandOffs[route] : null;
                if (ring is null) Drop(umem, addr, c, DropReason.NoTarget);
                else if (!ring.TryPush(t, view.DataPointer, (int)view.Offset, view.Length)) Drop(umem, addr, c, DropReason.RingFull);
                else
                {
                    umem.Free(addr, FrameState.App);
                    c.ForwardedField++;
                    _wakeAfterBatch |= 1UL << ring.To;
                }
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
        for (int i = 0; i < touched; i++) Flush(targets, _touched[i], c);
        if (_wakeAfterBatch != 0) WakeOwners();
        return true;
    }

    /// <summary>How many frames ahead of the one being decided its headers are asked for (x86).</summary>
    private const uint PrefetchDistance = 4;

    /// <summary>Starts bringing in the headers of the batch before the handler reads any. The kernel wrote them on the
    /// CPU that ran the port's receive, often another core: read one by one, each frame's headers cost a full cache
    /// miss (the largest single cost per frame in a profile of the meta-pair bench). x86: prefetcht0 (never faults)
    /// of the first <see cref="PrefetchDistance"/> frames here and of frame k + distance while frame k is decided
    /// (<see cref="PrefetchAhead"/>): a few misses in flight at a time. Asking for all 64 at once worked while the
    /// cores were close (a 70 ns cache-line round trip), but with the two vCPUs 320 ns apart the first frame's read
    /// still stalled 35-58 ns per frame (as if prefetches beyond what the core tracks were dropped). Elsewhere: a load of
    /// each frame's first line, whose misses the core overlaps (.NET offers arm64 no prefetch outside SVE).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PrefetchHeaders(XskRing rx, uint idx, uint n, Umem umem)
    {
        if (Sse.IsSupported)
        {
            // The batch's descriptors first: the kernel wrote them on the receiving CPU too, and PrefetchAhead's read
            // of a descriptor 4 frames ahead would otherwise wait for that line while a frame is decided (a miss
            // every 4 frames that the frame's own work cannot hide when the cores are far apart). A 16-byte
            // descriptor every 64 bytes touches each line of the batch once, the last one included.
            for (uint k = 0; k < n; k += 4) Sse.Prefetch0(Unsafe.AsPointer(ref rx.Desc(idx + k)));
            Sse.Prefetch0(Unsafe.AsPointer(ref rx.Desc(idx + n - 1)));
            for (uint k = 0; k < n && k < PrefetchDistance; k++) PrefetchHeader(rx, idx + k, umem);
            return;
        }
        int touched = 0;
        for (uint k = 0; k < n; k++)
        {
            byte* data = umem.Pointer(rx.Desc(idx + k).Addr);
            touched |= data[0];
        }
        _prefetched = touched;
    }

    /// <summary>While frame k of the batch is decided: the headers of frame k + <see cref="PrefetchDistance"/> (x86).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchAhead(XskRing rx, uint idx, uint k, uint n, Umem umem)
    {
        if (Sse.IsSupported && k + PrefetchDistance < n) PrefetchHeader(rx, idx + k + PrefetchDistance, umem);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchHeader(XskRing rx, uint at, Umem umem)
    {
        ref XdpDesc d = ref rx.Desc(at);
        byte* data = umem.Pointer(d.Addr);
        Sse.Prefetch0(data);
        // The second line only when the frame reaches into it: a 64-byte frame at the line-aligned start the kernel's
        // headroom gives fills one line, and a prefetch of the next one fetches what nobody reads.
        if (((nuint)data & 63) + d.Len > 64) Sse.Prefetch0(data + 64);
    }

    /// <summary>After a batch that handed frames over: wakes each receiving worker that sleeps (one eventfd write per
    /// sleeping worker and batch, none while it is busy).</summary>
    private void WakeOwners()
    {
        ulong mask = _wakeAfterBatch;
        _wakeAfterBatch = 0;
        Interlocked.MemoryBarrier(); // the pushes before the reads of SleepingField (the owner: its flag before its look)
        while (mask != 0)
        {
            int w = System.Numerics.BitOperations.TrailingZeroCount(mask);
            mask &= mask - 1;
            _engine.WakeIfSleeping(w);
        }
    }

    /// <summary>Frames other workers handed over → this worker's UMEM (one copy) → its socket of the target.</summary>
    private bool DrainHandOffs()
    {
        var rings = Inbound;
        bool any = false;
        var c = HandOffCounters;
        var targets = Ports;
        for (int r = 0; r < rings.Length; r++)
        {
            var ring = rings[r];
            int n = ring.Available(out long tail);
            if (n == 0) continue;
            if (n > Batch) n = Batch;
            any = true;
            int touched = 0;
            for (int k = 0; k < n; k++)
            {
                byte* src = ring.Frame(tail + k, out int t, out int offset, out int length);
                var target = (uint)t < (uint)targets.Length ? targets[t] : null;
                if (target is null || target.IsDownFlag)
                {
                    c.DropsField[(int)(target is null ? DropReason.NoTarget : DropReason.TargetDown)]++;
                    continue;
                }
                if (!target.Umem.TryAllocate(FrameState.App, t, out ulong copy))
                {
                    c.DropsField[(int)DropReason.NoFreeFrame]++;
                    continue;
                }
                Buffer.MemoryCopy(src, target.Umem.Pointer(copy + (ulong)offset), length, length);
                int s = _stagedCount[t];
                if (s == 0) _touched[touched++] = t;
                ref XdpDesc o = ref _staged[t * Batch + s];
                o.Addr = copy + (ulong)offset;
                o.Len = (uint)length;
                o.Options = 0;
                _stagedCount[t] = s + 1;
            }
            ring.Release(tail, n);
            c.RxPacketsField += n;
            for (int i = 0; i < touched; i++) Flush(targets, _touched[i], c);
        }
        return any;
    }

    private bool HandOffsWaiting()
    {
        foreach (var ring in Inbound)
            if (ring.Available(out _) > 0) return true;
        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Drop(Umem umem, ulong addr, PortCounters ingress, DropReason reason)
    {
        umem.Free(addr, FrameState.App);
        ingress.DropsField[(int)reason]++;
    }

    /// <summary>Staged descriptors → target TX ring; what does not fit is dropped as RingFull on the ingress port.</summary>
    private void Flush(XskPort?[] targets, int t, PortCounters ingress)
    {
        var tp = targets[t]!;
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
    private void Refill(XskPort p)
    {
        long held = p.FillPosted - p.RxTaken - p.FillReclaimed;
        long want = p.FillFrames - held;
        if (want >= Batch || (want > 0 && held < Batch)) p.PostFill((uint)want);
        if (p.BindMode == XskBindMode.ZeroCopy && p.Fill.NeedsWakeup) p.Kernel.KickRx();
        else if (p.UnderLoad && p.BusyPoll && (p.BusyPollConfirmed || ConfirmBusyPoll(p)))
        {
            // Adaptive busy poll: only while this port's batches come full does the worker drive its NAPI itself
            // (one recvfrom per port per loop, i.e. per 64 frames at most); otherwise the softirq delivers.
            p.Kernel.KickRx();
            p.Counters.BusyPollsField++;
        }
    }

    /// <summary><see cref="XskPort.ConfirmBusyPoll"/>, once per socket; a socket it switches busy poll off for is logged.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool ConfirmBusyPoll(XskPort p)
    {
        if (p.ConfirmBusyPoll()) return true;
        _engine.ReportBusyPollOff(p);
        return false;
    }

    /// <summary>One sendto() when the TX ring holds frames and the kernel wants a wake-up (always, in copy mode).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void KickTx(XskPort p)
    {
        if (p.Tx.Outstanding == 0 || !p.Tx.NeedsWakeup) return;
        int err = p.Kernel.KickTx();
        p.Counters.KicksField++;
        if (err is not (0 or Errno.EAGAIN or Errno.EBUSY or Errno.ENOBUFS)) p.Counters.KickErrorsField++;
    }

    /// <summary>Finds sockets whose interface vanished (the kernel sets SO_ERROR=ENETDOWN when it unregisters) and
    /// finishes reclaiming the TX frames of sockets that went down a while ago; runs the handler's tick.</summary>
    internal void CheckHealth()
    {
        Volatile.Write(ref AllocatedBytesField, GC.GetAllocatedBytesForCurrentThread());
        long now = Stopwatch.GetTimestamp();
        try
        {
            Volatile.Read(ref Handler).Tick(now);
        }
        catch (Exception e)
        {
            _engine.ReportHandlerFault("tick", e);
        }
        long reclaimDue = long.MaxValue;
        foreach (var p in Live)
        {
            if (!p.IsDownFlag)
            {
                int err = p.Kernel.TakeSocketError();
                if (err != 0) MarkDown(p, err, now);
            }
            else if (p.TxReclaimPending && now - p.DownSinceTicks >= _reclaimTicks)
            {
                ReapCompletions(p);
                p.TxReclaimPending = false;
                p.TxReclaimed += p.Umem.Reclaim(p.Index, FrameState.Tx);
            }
            if (p.TxReclaimPending) reclaimDue = Math.Min(reclaimDue, p.DownSinceTicks + _reclaimTicks);
        }
        _reclaimDue = reclaimDue;
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
    internal void RebuildPollSet() =>
        _pollFds = [.. Live.Where(p => !p.IsDownFlag)
            .Select(p => PollNative.Input(p.Fd)), _wake.PollEntry];

    /// <summary>While parked or stopped: takes <paramref name="port"/> into the table. A worker may own several queues
    /// of one interface (it has more queues than there are workers): all of them receive, the first one transmits.</summary>
    internal void Install(XskPort port)
    {
        if (Live.Any(p => p.Index == port.Index && p.Queue == port.Queue || ReferenceEquals(p, port)))
            throw new InvalidOperationException($"engine port {port.Index} queue {port.Queue} is in use");
        var byIndex = new XskPort?[Math.Max(Ports.Length, port.Index + 1)];
        Ports.CopyTo(byIndex, 0);
        byIndex[port.Index] ??= port;
        Ports = byIndex;
        Live = [.. Live, port];
        RebuildPollSet();
    }

    /// <summary>While parked or stopped: drops <paramref name="port"/> from the table (false: it was not there).</summary>
    internal bool Uninstall(XskPort port)
    {
        if (!Live.Contains(port)) return false;
        Live = [.. Live.Where(p => !ReferenceEquals(p, port))];
        var byIndex = (XskPort?[])Ports.Clone();
        if (ReferenceEquals(byIndex[port.Index], port)) byIndex[port.Index] = Live.FirstOrDefault(p => p.Index == port.Index);
        Ports = byIndex;
        RebuildPollSet();
        return true;
    }

    internal void Free()
    {
        NativeMemory.Free(_staged);
        _wake.Dispose();
    }
}
