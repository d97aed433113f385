using Appliance.Interop;

namespace Appliance.Datapath.Xsk;

/// <summary>The kernel's side of a port as the appliance runs it: one AF_XDP socket on one interface queue and its
/// four rings mmapped from it (afxdp.md §5). <see cref="Open"/> sizes and maps the rings; <see cref="XskPort.Create"/>
/// primes FILL and then binds (<see cref="Bind"/>).</summary>
public sealed unsafe class XskSocketKernel : IXskKernel
{
    private readonly MmapRegion[] _maps;

    public XskSocket Socket { get; }
    public string InterfaceName => Socket.InterfaceName;
    public int IfIndex => Socket.IfIndex;
    public uint Queue => Socket.QueueId;
    public int Fd => Socket.Fd;
    public XskRing Rx { get; }
    public XskRing Tx { get; }
    public XskRing Fill { get; }
    public XskRing Completion { get; }

    private XskSocketKernel(XskSocket socket, MmapRegion[] maps, XskRing rx, XskRing tx, XskRing fill, XskRing completion)
    {
        Socket = socket;
        _maps = maps;
        Rx = rx;
        Tx = tx;
        Fill = fill;
        Completion = completion;
    }

    /// <summary>Creates the socket, registers <paramref name="umem"/> (<paramref name="registerUmem"/>: the UMEM's
    /// owner; a socket that joins it registers nothing), sizes and maps the rings. On any failure everything is undone.</summary>
    internal static XskSocketKernel Open(XskPortSpec spec, Umem umem, bool registerUmem, XskOptions o)
    {
        var socket = XskSocket.Open(spec.InterfaceName, spec.Queue);
        var maps = new List<MmapRegion>(4);
        try
        {
            if (registerUmem) socket.RegisterUmem(umem.Base, umem.Length, umem.FrameSize, umem.Headroom);
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
            return new XskSocketKernel(socket, [.. maps],
                XskRing.Over(rx, off.Rx, o.RxRingSize, asProducer: false),
                XskRing.Over(tx, off.Tx, o.TxRingSize, asProducer: true),
                XskRing.Over(fill, off.Fill, fillRing, asProducer: true),
                XskRing.Over(comp, off.Completion, o.CompletionRingSize, asProducer: false));
        }
        catch
        {
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

    /// <summary>bind(), retried while the queue is still busy: a just-closed socket's queue is released
    /// asynchronously (afxdp.md §18.2). <paramref name="owner"/>: the UMEM owner's socket (XDP_SHARED_UMEM).</summary>
    internal void Bind(ushort flags, XskSocketKernel? owner, TimeSpan busyRetry)
    {
        var deadline = DateTime.UtcNow + busyRetry;
        while (true)
        {
            try
            {
                Socket.Bind(flags, owner?.Socket);
                return;
            }
            catch (PlatformException e) when (e.Errno == Errno.EBUSY && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(50);
            }
        }
    }

    public int KickTx() => Socket.KickTx();
    public int KickRx() => Socket.KickRx();
    public uint NapiId() => Socket.IncomingNapiId();
    public int TakeSocketError() => Socket.TakeSocketError();
    public XdpStatistics Statistics() => Socket.GetStatistics();

    /// <summary>Closes the socket, then unmaps its rings.</summary>
    public void Dispose()
    {
        Socket.Dispose();
        foreach (var m in _maps) m.Dispose();
    }
}
