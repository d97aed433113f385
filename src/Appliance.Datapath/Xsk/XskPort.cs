using System.Runtime.InteropServices;
using Appliance.Datapath.Engine;
using Appliance.Datapath.Xdp;
using Appliance.Interop;

namespace Appliance.Datapath.Xsk;

/// <summary>One AF_XDP socket on one interface queue with its four mmapped rings (RX, TX, and its own
/// FILL/COMPLETION pair, since every port is a distinct (netdev, queue)), the UMEM it draws frames from,
/// and the XDP steering that feeds it. Ring state is touched only by the forwarding worker.</summary>
public sealed unsafe class XskPort : IDisposable
{
    internal XskRing Rx, Tx, Fill, Completion;

    // Ring-derived frame accounting (worker-written): frames the kernel holds = posted - returned - reclaimed.
    internal long FillPosted, RxTaken, FillReclaimed, TxPosted, Completed, TxReclaimed;

    private readonly MmapRegion[] _maps;

    /// <summary>Index among the engine's ports; also the owner tag in the UMEM's frame ledger.</summary>
    public int Index { get; }
    /// <summary>The forwarding worker that owns this socket (and its UMEM's free stack).</summary>
    public int Worker { get; init; }
    public string InterfaceName => Socket.InterfaceName;
    public uint Queue => Socket.QueueId;
    public XskSocket Socket { get; }
    public Umem Umem { get; }
    public bool OwnsUmem { get; }
    public XskBindMode BindMode { get; private set; }
    public XdpSteering? Steering { get; internal set; }
    /// <summary>The interface's steering when another worker's socket owns it (described, never disposed, here).</summary>
    internal XdpSteering? SharedSteering { get; set; }
    public PortCounters Counters { get; } = new();
    public uint FillFrames { get; }
    /// <summary>The kernel took the busy-poll options (<see cref="XskOptions.BusyPollMicroseconds"/>): the worker
    /// busy-polls this socket while its batches come full.</summary>
    public bool BusyPoll { get; private set; }

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
        (BusyPoll ? ", busy-poll under load" : "");

    private XskPort(int index, XskSocket socket, Umem umem, bool ownsUmem, MmapRegion[] maps, uint fillFrames)
    {
        Index = index;
        Socket = socket;
        Umem = umem;
        OwnsUmem = ownsUmem;
        _maps = maps;
        FillFrames = fillFrames;
    }

    /// <summary>Creates the socket, registers the UMEM (owner) or joins it (<paramref name="sharedOwner"/>), sizes
    /// and maps the rings, pre-posts FILL frames and binds. On any failure everything is undone.</summary>
    internal static XskPort Create(int index, XskPortSpec spec, Umem umem, XskPort? sharedOwner, ushort bindFlags, XskOptions o, int worker = 0)
    {
        var socket = XskSocket.Open(spec.InterfaceName, spec.Queue);
        var maps = new List<MmapRegion>(4);
        XskPort? port = null;
        try
        {
            if (sharedOwner is null) socket.RegisterUmem(umem.Base, umem.Length, umem.FrameSize, umem.Headroom);
            uint fillRing = o.FillFrames * 2;
            socket.SetRingSize(XskConstants.UmemFillRing, fillRing, "FILL");
            socket.SetRingSize(XskConstants.UmemCompletionRing, o.CompletionRingSize, "COMPLETION");
            socket.SetRingSize(XskConstants.RxRing, o.RxRingSize, "RX");
            socket.SetRingSize(XskConstants.TxRing, o.TxRingSize, "TX");
            var off = socket.GetMmapOffsets();
            var rx = Map(socket, maps, XskConstants.PgoffRxRing, off.Rx, o.RxRingSize, sizeof(XdpDesc), "RX");
            var tx = Map(socket, maps, XskConstants.PgoffTxRing, off.Tx, o.TxRingSize, sizeof(XdpDesc), "TX");
            var fill = Map(socket, maps, XskConstants.PgoffFillRing, off.Fill, fillRing, sizeof(ulong), "FILL");
            var comp = Map(socket, maps, XskConstants.PgoffCompletionRing, off.Completion, o.CompletionRingSize, sizeof(ulong), "COMPLETION");
            port = new XskPort(index, socket, umem, sharedOwner is null, maps.ToArray(), o.FillFrames)
            {
                Worker = worker,
                Rx = XskRing.Over(rx, off.Rx, o.RxRingSize, asProducer: false),
                Tx = XskRing.Over(tx, off.Tx, o.TxRingSize, asProducer: true),
                Fill = XskRing.Over(fill, off.Fill, fillRing, asProducer: true),
                Completion = XskRing.Over(comp, off.Completion, o.CompletionRingSize, asProducer: false),
            };
            port.PostFill(o.FillFrames);
            BindWithRetry(socket, bindFlags, sharedOwner?.Socket, o.BindBusyRetry);
            port.BindMode = socket.IsZeroCopy() ? XskBindMode.ZeroCopy : XskBindMode.Copy;
            if (port.BindMode == XskBindMode.Copy) socket.TrySetTxBudget(Math.Min(o.TxBudget, o.TxRingSize));
            port.BusyPoll = o.BusyPollMicroseconds > 0 && socket.TryEnableBusyPoll(o.BusyPollMicroseconds, o.BusyPollBudget) == 0;
            return port;
        }
        catch
        {
            if (port is not null) umem.Reclaim(index, FrameState.Fill);
            socket.Dispose();
            foreach (var m in maps) m.Dispose();
            throw;
        }
    }

    private static byte* Map(XskSocket s, List<MmapRegion> maps, long pgoff, in XdpRingOffset off, uint entries, int entrySize, string name)
    {
        var region = s.MapRing(pgoff, (nuint)(off.Desc + (ulong)entries * (ulong)entrySize), name);
        maps.Add(region);
        return region.Pointer;
    }

    private static void BindWithRetry(XskSocket socket, ushort flags, XskSocket? owner, TimeSpan busyRetry)
    {
        var deadline = DateTime.UtcNow + busyRetry;
        while (true)
        {
            try
            {
                socket.Bind(flags, owner);
                return;
            }
            catch (PlatformException e) when (e.Errno == Errno.EBUSY && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(50); // a just-closed socket's queue is released asynchronously (afxdp.md §18.2)
            }
        }
    }

    /// <summary>Posts up to <paramref name="count"/> free frames to the FILL ring; returns how many.</summary>
    internal uint PostFill(uint count)
    {
        if (count > Umem.FreeCount) count = Umem.FreeCount;
        uint got = Fill.Reserve(count, out uint idx);
        for (uint i = 0; i < got; i++)
        {
            Umem.TryAllocate(FrameState.Fill, Index, out ulong addr);
            Fill.Addr(idx + i) = addr;
        }
        if (got > 0)
        {
            Fill.Submit(got);
            FillPosted += got;
        }
        return got;
    }

    /// <summary>The kernel's drop counters for this socket.</summary>
    public XdpStatistics Statistics() => Socket.GetStatistics();

    public void Dispose()
    {
        Steering?.Dispose();
        Steering = null;
        Socket.Dispose();
        foreach (var m in _maps) m.Dispose();
    }
}
