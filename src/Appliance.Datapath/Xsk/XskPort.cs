using System.Runtime.CompilerServices;
using Appliance.Datapath.Engine;
using Appliance.Datapath.Xdp;
using Appliance.Interop;

namespace Appliance.Datapath.Xsk;

/// <summary>One AF_XDP socket on one interface queue with its four mmapped rings (RX, TX, and its own
/// FILL/COMPLETION pair, since every port is a distinct (netdev, queue)), the UMEM it draws frames from,
/// and the XDP steering that feeds it. Ring state is touched only by the forwarding worker. The socket itself is
/// its <see cref="IXskKernel"/>: the real one (<see cref="Create"/>) or a test's (<see cref="Over"/>).</summary>
public sealed unsafe class XskPort : IDisposable
{
    internal XskRing Rx, Tx, Fill, Completion;

    // Ring-derived frame accounting (worker-written): frames the kernel holds = posted - returned - reclaimed.
    internal long FillPosted, RxTaken, FillReclaimed, TxPosted, Completed, TxReclaimed;

    /// <summary>The kernel's side (kicks, SO_ERROR, statistics; what poll() waits on): per batch or event, never per frame.</summary>
    internal readonly IXskKernel Kernel;

    /// <summary>Index among the engine's ports; also the owner tag in the UMEM's frame ledger.</summary>
    public int Index { get; }
    /// <summary>The forwarding worker that owns this socket (and its UMEM's free stack).</summary>
    public int Worker { get; init; }
    public string InterfaceName => Kernel.InterfaceName;
    public uint Queue => Kernel.Queue;
    public int IfIndex => Kernel.IfIndex;
    /// <summary>The socket's descriptor: what poll() waits on and what the interface's XSKMAP entry holds.</summary>
    public int Fd => Kernel.Fd;
    public Umem Umem { get; }
    public bool OwnsUmem { get; }
    public XskBindMode BindMode { get; private set; }
    public XdpSteering? Steering { get; internal set; }
    /// <summary>The interface's steering when another worker's socket owns it (described, never disposed, here).</summary>
    internal XdpSteering? SharedSteering { get; set; }
    public PortCounters Counters { get; } = new();
    public uint FillFrames { get; }
    /// <summary>The kernel took the busy-poll options (<see cref="XskOptions.BusyPollMicroseconds"/>): the worker
    /// busy-polls this socket while its batches come full, unless the socket turns out to have no NAPI instance to
    /// poll (<see cref="ConfirmBusyPoll"/>).</summary>
    public bool BusyPoll { get; private set; }
    /// <summary>Busy poll was switched off because the socket's frames come from no NAPI instance.</summary>
    public bool BusyPollUnavailable { get; private set; }
    /// <summary>Worker-only: the socket named its NAPI instance, so a busy poll has something to run.</summary>
    internal bool BusyPollConfirmed;

    /// <summary>Set by the worker when the interface vanished (SO_ERROR); read with Volatile by others.</summary>
    internal volatile bool IsDownFlag;
    internal long DownSinceTicks;
    internal bool TxReclaimPending;
    /// <summary>Worker-only: the last receive took a full batch (the port is under load).</summary>
    internal bool UnderLoad;
    public bool IsDown => IsDownFlag;
    public string? DownReason { get; internal set; }

    /// <summary>"fwd-in queue 0: XDP native via bpf_link, AF_XDP copy mode, UMEM shared-copy (owner)".</summary>
    public string Describe() =>
        $"{InterfaceName} queue {Queue}: XDP {(Steering ?? SharedSteering)?.Describe() ?? "not attached"}, AF_XDP " +
        $"{(BindMode == XskBindMode.ZeroCopy ? "zero-copy" : "copy")} mode, UMEM {Umem.Name}{(OwnsUmem ? " (owner)" : " (shared)")}" +
        (BusyPoll ? ", busy-poll under load" : BusyPollUnavailable ? ", no busy poll (no NAPI instance)" : "");

    /// <summary>Called by the worker the first time this busy-polling port comes under load, when it has received
    /// frames: a busy poll (recvfrom) runs the NAPI instance the socket's frames came from, and a socket that names
    /// none — veth since Linux 6.13 — would pay a syscall per batch for nothing, so busy poll is switched off for it.
    /// True when busy poll stays on.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal bool ConfirmBusyPoll()
    {
        if (Kernel.NapiId() != 0) return BusyPollConfirmed = true;
        BusyPoll = false;
        BusyPollUnavailable = true;
        return false;
    }

    private XskPort(int index, IXskKernel kernel, Umem umem, bool ownsUmem, uint fillFrames)
    {
        Index = index;
        Kernel = kernel;
        Umem = umem;
        OwnsUmem = ownsUmem;
        FillFrames = fillFrames;
        Rx = kernel.Rx;
        Tx = kernel.Tx;
        Fill = kernel.Fill;
        Completion = kernel.Completion;
    }

    /// <summary>Creates the socket, registers the UMEM (owner) or joins it (<paramref name="sharedOwner"/>), sizes
    /// and maps the rings, pre-posts FILL frames and binds. On any failure everything is undone.</summary>
    internal static XskPort Create(int index, XskPortSpec spec, Umem umem, XskPort? sharedOwner, ushort bindFlags, XskOptions o, int worker = 0)
    {
        var kernel = XskSocketKernel.Open(spec, umem, registerUmem: sharedOwner is null, o);
        XskPort? port = null;
        try
        {
            port = Over(index, kernel, umem, sharedOwner is null, o.FillFrames, worker);
            kernel.Bind(bindFlags, (XskSocketKernel?)sharedOwner?.Kernel, o.BindBusyRetry);
            port.BindMode = kernel.Socket.IsZeroCopy() ? XskBindMode.ZeroCopy : XskBindMode.Copy;
            if (port.BindMode == XskBindMode.Copy) kernel.Socket.TrySetTxBudget(Math.Min(o.TxBudget, o.TxRingSize));
            port.BusyPoll = o.BusyPollMicroseconds > 0 && kernel.Socket.TryEnableBusyPoll(o.BusyPollMicroseconds, o.BusyPollBudget) == 0;
            return port;
        }
        catch
        {
            if (port is not null) umem.Reclaim(index, FrameState.Fill);
            kernel.Dispose();
            throw;
        }
    }

    /// <summary>A port over a kernel side whose rings exist (an AF_XDP socket <see cref="Create"/> binds next, or the
    /// engine tests' in-process kernel), its FILL ring primed with <paramref name="fillFrames"/> frames of
    /// <paramref name="umem"/>.</summary>
    internal static XskPort Over(int index, IXskKernel kernel, Umem umem, bool ownsUmem, uint fillFrames, int worker = 0,
        XskBindMode bindMode = XskBindMode.Copy, bool busyPoll = false)
    {
        var port = new XskPort(index, kernel, umem, ownsUmem, fillFrames) { Worker = worker, BindMode = bindMode, BusyPoll = busyPoll };
        port.PostFill(fillFrames);
        return port;
    }

    /// <summary>Posts up to <paramref name="count"/> free frames to the FILL ring; returns how many.</summary>
    internal uint PostFill(uint count)
    {
        if (count > Umem.FreeCount) count = Umem.FreeCount;
        uint got = Fill.Reserve(count, out uint idx);
        ulong* frames = Umem.TakeFree(got, FrameState.Fill, Index);
        for (uint i = 0; i < got; i++) Fill.Addr(idx + i) = frames[i];
        if (got > 0)
        {
            Fill.Submit(got);
            FillPosted += got;
        }
        return got;
    }

    /// <summary>The kernel's drop counters for this socket.</summary>
    public XdpStatistics Statistics() => Kernel.Statistics();

    public void Dispose()
    {
        Steering?.Dispose();
        Steering = null;
        Kernel.Dispose();
    }
}
