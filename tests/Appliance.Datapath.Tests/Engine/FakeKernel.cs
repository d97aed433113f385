using System.Runtime.InteropServices;
using Appliance.Datapath.Xsk;
using Appliance.Interop;

namespace Appliance.Datapath.Tests.Engine;

/// <summary>The kernel's side of one port, in process: four rings in native memory laid out as the kernel lays them out
/// (producer, consumer and flags words on cache lines of their own, then the entries), with the kernel's part played
/// through a second <see cref="XskRing"/> view of each, as AF_XDP copy mode does it: <see cref="Deliver"/> takes a
/// frame from FILL, writes the bytes into it and posts it on RX (and makes <see cref="Fd"/> readable, as a socket with
/// frames waiting is to poll()); <see cref="KickTx"/> takes what the TX ring holds, records the bytes as sent and
/// returns the frames on COMPLETION (at once, or at <see cref="Complete"/> while <see cref="HoldCompletions"/>).
/// <see cref="GoDown"/> is an unregistered interface: SO_ERROR says ENETDOWN, and the frames it holds never come back.
/// Deliver is the test thread's; the kicks are the worker's (the two never touch the same ring).</summary>
public sealed unsafe class FakeKernel : IXskKernel
{
    // Counted down from the top, far from any real interface's index: the started engine's link watcher sees the
    // real kernel's deletions, which must never name a fake port.
    private static int s_ifIndex = int.MaxValue;
    private static readonly XdpRingOffset Layout = new() { Producer = 0, Consumer = 64, Flags = 128, Desc = 192 };

    private readonly Umem _umem;
    private readonly uint _rxSize, _txSize, _fillSize, _compSize;
    private byte* _rxMem, _txMem, _fillMem, _compMem;
    // The kernel's views: producer of RX and COMPLETION, consumer of FILL and TX.
    private XskRing _rx, _tx, _fill, _comp;
    private readonly WakeEvent _readable = new("fake AF_XDP socket");
    private readonly List<byte[]> _sent = [];
    private readonly Queue<ulong> _held = new();
    private XdpStatistics _stats;
    private int _error, _txKicks, _rxKicks;
    private volatile bool _down;

    public string InterfaceName { get; }
    public int IfIndex { get; }
    public uint Queue { get; }
    public int Fd => _readable.Fd;

    /// <summary>A kick finds the TX ring and takes nothing (a stalled driver): what the worker put there stays.</summary>
    public volatile bool StallTx;
    /// <summary>Sent frames stay the kernel's until <see cref="Complete"/> (a driver slow to complete).</summary>
    public volatile bool HoldCompletions;
    /// <summary>Descriptors one kick sends at most (copy mode's XDP_MAX_TX_SKB_BUDGET).</summary>
    public uint TxBudget = uint.MaxValue;

    public FakeKernel(Umem umem, string name, uint queue = 0, uint rx = 256, uint tx = 256, uint fill = 512, uint completion = 256)
    {
        _umem = umem;
        InterfaceName = name;
        IfIndex = Interlocked.Decrement(ref s_ifIndex);
        Queue = queue;
        (_rxSize, _txSize, _fillSize, _compSize) = (rx, tx, fill, completion);
        _rxMem = Alloc(rx, sizeof(XdpDesc));
        _txMem = Alloc(tx, sizeof(XdpDesc));
        _fillMem = Alloc(fill, sizeof(ulong));
        _compMem = Alloc(completion, sizeof(ulong));
        _rx = XskRing.Over(_rxMem, Layout, rx, asProducer: true);
        _tx = XskRing.Over(_txMem, Layout, tx, asProducer: false);
        _fill = XskRing.Over(_fillMem, Layout, fill, asProducer: false);
        _comp = XskRing.Over(_compMem, Layout, completion, asProducer: true);
        TxNeedsWakeup = true; // copy mode: every transmission waits for a sendto()
    }

    private static byte* Alloc(uint entries, int entrySize) => (byte*)NativeMemory.AllocZeroed((nuint)(Layout.Desc + entries * (ulong)entrySize));

    // The application's views, read once by XskPort.
    public XskRing Rx => XskRing.Over(_rxMem, Layout, _rxSize, asProducer: false);
    public XskRing Tx => XskRing.Over(_txMem, Layout, _txSize, asProducer: true);
    public XskRing Fill => XskRing.Over(_fillMem, Layout, _fillSize, asProducer: true);
    public XskRing Completion => XskRing.Over(_compMem, Layout, _compSize, asProducer: false);

    /// <summary>XDP_RING_NEED_WAKEUP on the TX ring: the worker must kick to have its frames sent.</summary>
    public bool TxNeedsWakeup
    {
        set => Volatile.Write(ref *(uint*)(_txMem + Layout.Flags), value ? XskConstants.RingNeedWakeup : 0);
    }

    /// <summary>XDP_RING_NEED_WAKEUP on the FILL ring (a zero-copy driver waiting for a recvfrom()).</summary>
    public bool FillNeedsWakeup
    {
        set => Volatile.Write(ref *(uint*)(_fillMem + Layout.Flags), value ? XskConstants.RingNeedWakeup : 0);
    }

    /// <summary>sendto() calls (TX kicks) so far.</summary>
    public int TxKicks => Volatile.Read(ref _txKicks);
    /// <summary>recvfrom() calls (FILL wake-ups and busy polls) so far.</summary>
    public int RxKicks => Volatile.Read(ref _rxKicks);

    /// <summary>The frames sent so far, in order.</summary>
    public byte[][] Sent
    {
        get { lock (_sent) return [.. _sent]; }
    }

    /// <summary>Frames the application has given FILL that this kernel has not taken yet.</summary>
    public uint FillWaiting => _fill.Indices.Producer - _fill.Indices.Consumer;

    /// <summary>Descriptors on the TX ring not taken yet.</summary>
    public uint TxWaiting => _tx.Indices.Producer - _tx.Indices.Consumer;

    /// <summary>Frames received and not yet taken by the worker.</summary>
    public uint RxWaiting => _rx.Indices.Producer - _rx.Indices.Consumer;

    /// <summary>Receive frames this kernel holds: given to FILL and not taken, or taken and waiting on RX.</summary>
    public int ReceiveHeld => (int)(FillWaiting + RxWaiting);

    /// <summary>Receives <paramref name="frame"/>: FILL → bytes → RX, as the kernel's copy mode does (the data after both
    /// headrooms). False, counted as the kernel counts it, when the interface is down, RX is full or FILL is empty.</summary>
    public bool Deliver(ReadOnlySpan<byte> frame)
    {
        if (_down) return false;
        if (_rx.Free(1) == 0)
        {
            _stats.RxRingFull++;
            return false;
        }
        if (_fill.Peek(1, out uint fi) == 0)
        {
            _stats.RxFillRingEmptyDescs++;
            return false;
        }
        ulong addr = _fill.Addr(fi) + _umem.Headroom + XskConstants.PacketHeadroom;
        _fill.Release(1);
        frame.CopyTo(new Span<byte>(_umem.Pointer(addr), frame.Length));
        _rx.Reserve(1, out uint ri);
        ref XdpDesc d = ref _rx.Desc(ri);
        d.Addr = addr;
        d.Len = (uint)frame.Length;
        d.Options = 0;
        _rx.Submit(1);
        _readable.Signal();
        return true;
    }

    /// <summary>Delivers every frame; returns how many were taken.</summary>
    public int Deliver(IEnumerable<byte[]> frames)
    {
        int n = 0;
        foreach (var f in frames) n += Deliver(f) ? 1 : 0;
        return n;
    }

    /// <summary>Clears the readiness <see cref="Deliver"/> set once the worker took every received frame (poll() on a
    /// socket reports input while its RX ring is not empty); false while frames wait.</summary>
    public bool ClearReadableIfDrained()
    {
        if (RxWaiting != 0) return false;
        _readable.Drain();
        return true;
    }

    public int KickTx()
    {
        Interlocked.Increment(ref _txKicks);
        if (_down) return Errno.ENETDOWN;
        if (StallTx) return Errno.EAGAIN;
        uint room = HoldCompletions ? uint.MaxValue : _comp.Free(uint.MaxValue);
        uint n = _tx.Peek(Math.Min(room, TxBudget), out uint ti);
        if (n == 0) return 0;
        for (uint k = 0; k < n; k++)
        {
            XdpDesc d = _tx.Desc(ti + k);
            var bytes = new ReadOnlySpan<byte>(_umem.Pointer(d.Addr), (int)d.Len).ToArray();
            lock (_sent) _sent.Add(bytes);
            lock (_held) _held.Enqueue(d.Addr);
        }
        _tx.Release(n);
        if (!HoldCompletions) Complete();
        return 0;
    }

    /// <summary>Returns the sent frames still held (at most <paramref name="max"/>) on COMPLETION, as many as it has room
    /// for; how many. Also after <see cref="GoDown"/>: a driver may complete late.</summary>
    public int Complete(int max = int.MaxValue)
    {
        lock (_held)
        {
            uint n = _comp.Reserve((uint)Math.Min(max, _held.Count), out uint ci);
            for (uint k = 0; k < n; k++) _comp.Addr(ci + k) = _held.Dequeue();
            _comp.Submit(n);
            return (int)n;
        }
    }

    /// <summary>What SO_INCOMING_NAPI_ID says: a NAPI instance by default; 0 plays a veth on Linux 6.13 or later.</summary>
    public uint Napi { get; set; } = 1;
    public int NapiIdCalls => Volatile.Read(ref _napiIdCalls);
    private int _napiIdCalls;

    public uint NapiId()
    {
        Interlocked.Increment(ref _napiIdCalls);
        return Napi;
    }

    public int KickRx()
    {
        Interlocked.Increment(ref _rxKicks);
        return _down ? Errno.ENETDOWN : 0;
    }

    /// <summary>The interface is unregistered: SO_ERROR becomes ENETDOWN, nothing more is received, sent or completed.</summary>
    public void GoDown()
    {
        _down = true;
        Volatile.Write(ref _error, Errno.ENETDOWN);
    }

    public int TakeSocketError() => Interlocked.Exchange(ref _error, 0);

    public XdpStatistics Statistics() => _stats;

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
