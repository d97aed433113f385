using System.Runtime.InteropServices;
using Appliance.Datapath.Xsk;
using Appliance.Interop;

namespace Appliance.Bench;

/// <summary>The kernel's side of one port for the engine benchmark, in process and on the worker's own thread: its
/// four rings laid out as the kernel lays them out; <see cref="Feed"/> moves frames the worker gave FILL onto RX as
/// received frames of <see cref="FrameLength"/> bytes (their bytes were written into every UMEM frame once, and the
/// measured path changes none), and <see cref="KickTx"/> takes what the TX ring holds and completes it at once,
/// counting it. No copy, no syscall, no allocation: what a turn of the worker costs beside it is the worker's own
/// per-frame work — the part of the forwarding core's time that is ours, whatever the two CPUs' distance.</summary>
public sealed unsafe class LoopKernel : IXskKernel
{
    private static int s_ifIndex = int.MaxValue;
    private static readonly XdpRingOffset Layout = new() { Producer = 0, Consumer = 64, Flags = 128, Desc = 192 };

    private readonly Umem _umem;
    private readonly uint _size;
    private byte* _rxMem, _txMem, _fillMem, _compMem;
    // The kernel's views: producer of RX and COMPLETION, consumer of FILL and TX.
    private XskRing _rx, _tx, _fill, _comp;
    private readonly WakeEvent _readable = new("engine benchmark socket");

    public string InterfaceName { get; }
    public int IfIndex { get; }
    public uint Queue => 0;
    public int Fd => _readable.Fd;
    public uint FrameLength { get; init; } = 60;
    /// <summary>Frames transmitted (taken from TX and completed) so far.</summary>
    public long Transmitted { get; private set; }

    public LoopKernel(Umem umem, string name, uint size = 512)
    {
        _umem = umem;
        _size = size;
        InterfaceName = name;
        IfIndex = Interlocked.Decrement(ref s_ifIndex);
        _rxMem = Alloc(size, sizeof(XdpDesc));
        _txMem = Alloc(size, sizeof(XdpDesc));
        _fillMem = Alloc(size, sizeof(ulong));
        _compMem = Alloc(size, sizeof(ulong));
        _rx = XskRing.Over(_rxMem, Layout, size, asProducer: true);
        _tx = XskRing.Over(_txMem, Layout, size, asProducer: false);
        _fill = XskRing.Over(_fillMem, Layout, size, asProducer: false);
        _comp = XskRing.Over(_compMem, Layout, size, asProducer: true);
        // Copy mode: every transmission waits for a sendto(), as on a veth.
        Volatile.Write(ref *(uint*)(_txMem + Layout.Flags), XskConstants.RingNeedWakeup);
    }

    private static byte* Alloc(uint entries, int entrySize) => (byte*)NativeMemory.AllocZeroed((nuint)(Layout.Desc + entries * (ulong)entrySize));

    public XskRing Rx => XskRing.Over(_rxMem, Layout, _size, asProducer: false);
    public XskRing Tx => XskRing.Over(_txMem, Layout, _size, asProducer: true);
    public XskRing Fill => XskRing.Over(_fillMem, Layout, _size, asProducer: true);
    public XskRing Completion => XskRing.Over(_compMem, Layout, _size, asProducer: false);

    /// <summary>Where the kernel puts a received frame in a FILL frame: after the UMEM's headroom and XDP's.</summary>
    public static ulong DataOffset(Umem umem) => umem.Headroom + XskConstants.PacketHeadroom;

    /// <summary>Receives up to <paramref name="max"/> frames: FILL → RX, each the frame already in its UMEM frame.</summary>
    public uint Feed(uint max)
    {
        uint n = _fill.Peek(Math.Min(max, _rx.Free(max)), out uint fi);
        if (n == 0) return 0;
        uint got = _rx.Reserve(n, out uint ri);
        ulong offset = DataOffset(_umem);
        for (uint k = 0; k < got; k++)
        {
            ref XdpDesc d = ref _rx.Desc(ri + k);
            d.Addr = _fill.Addr(fi + k) + offset;
            d.Len = FrameLength;
            d.Options = 0;
        }
        _fill.Release(got);
        _rx.Submit(got);
        return got;
    }

    public int KickTx()
    {
        uint n = _tx.Peek(_comp.Free(_size), out uint ti);
        if (n == 0) return 0;
        uint got = _comp.Reserve(n, out uint ci);
        for (uint k = 0; k < got; k++) _comp.Addr(ci + k) = _tx.Desc(ti + k).Addr; // as the kernel completes it: the address the TX descriptor gave
        _tx.Release(got);
        _comp.Submit(got);
        Transmitted += got;
        return 0;
    }

    public int KickRx() => 0;
    public uint NapiId() => 0;
    public int TakeSocketError() => 0;
    public XdpStatistics Statistics() => default;

    public void Dispose()
    {
        if (_rxMem == null) return;
        NativeMemory.Free(_rxMem);
        NativeMemory.Free(_txMem);
        NativeMemory.Free(_fillMem);
        NativeMemory.Free(_compMem);
        _rxMem = _txMem = _fillMem = _compMem = null;
        _readable.Dispose();
    }
}
