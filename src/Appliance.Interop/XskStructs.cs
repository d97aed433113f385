using System.Runtime.InteropServices;

namespace Appliance.Interop;

/// <summary>struct sockaddr_xdp (16 bytes, include/uapi/linux/if_xdp.h).</summary>
[StructLayout(LayoutKind.Sequential, Size = 16)]
public struct SockaddrXdp
{
    public ushort Family;
    public ushort Flags;
    public uint IfIndex;
    public uint QueueId;
    public uint SharedUmemFd;
}

/// <summary>struct xdp_umem_reg, full 32-byte version (always passed zeroed with optlen 32; afxdp.md §3).</summary>
[StructLayout(LayoutKind.Sequential, Size = 32)]
public struct XdpUmemReg
{
    public ulong Addr;
    public ulong Len;
    public uint ChunkSize;
    public uint Headroom;
    public uint Flags;
    public uint TxMetadataLen;
}

/// <summary>struct xdp_ring_offset: where producer, consumer, descriptors and flags sit in a ring's mmap.</summary>
[StructLayout(LayoutKind.Sequential, Size = 32)]
public struct XdpRingOffset
{
    public ulong Producer;
    public ulong Consumer;
    public ulong Desc;
    public ulong Flags;
}

/// <summary>struct xdp_mmap_offsets (128 bytes; 96 on kernels up to 5.3, without the flags words).</summary>
[StructLayout(LayoutKind.Sequential, Size = 128)]
public struct XdpMmapOffsets
{
    public XdpRingOffset Rx;
    public XdpRingOffset Tx;
    public XdpRingOffset Fill;
    public XdpRingOffset Completion;
}

/// <summary>struct xdp_desc: one RX or TX ring entry (16 bytes).</summary>
[StructLayout(LayoutKind.Sequential, Size = 16)]
public struct XdpDesc
{
    public ulong Addr;
    public uint Len;
    public uint Options;
}

/// <summary>struct xdp_statistics (48 bytes; the first 24 on old kernels).</summary>
[StructLayout(LayoutKind.Sequential, Size = 48)]
public struct XdpStatistics
{
    public ulong RxDropped;
    public ulong RxInvalidDescs;
    public ulong TxInvalidDescs;
    public ulong RxRingFull;
    public ulong RxFillRingEmptyDescs;
    public ulong TxRingEmptyDescs;

    /// <summary>Both sockets' counters added up (a port's sockets, one per queue).</summary>
    public static XdpStatistics operator +(in XdpStatistics a, in XdpStatistics b) => new()
    {
        RxDropped = a.RxDropped + b.RxDropped, RxInvalidDescs = a.RxInvalidDescs + b.RxInvalidDescs,
        TxInvalidDescs = a.TxInvalidDescs + b.TxInvalidDescs, RxRingFull = a.RxRingFull + b.RxRingFull,
        RxFillRingEmptyDescs = a.RxFillRingEmptyDescs + b.RxFillRingEmptyDescs, TxRingEmptyDescs = a.TxRingEmptyDescs + b.TxRingEmptyDescs,
    };

    /// <summary>Received frames the kernel dropped before the appliance saw them: no free frame to copy into
    /// (<see cref="RxDropped"/>, which the FILL ring running dry is one cause of) or no room on the RX ring
    /// (<see cref="RxRingFull"/>).</summary>
    public readonly ulong RxLost => RxDropped + RxRingFull;

    public override readonly string ToString() =>
        $"rx_dropped={RxDropped} rx_invalid={RxInvalidDescs} tx_invalid={TxInvalidDescs} rx_ring_full={RxRingFull} " +
        $"fill_empty={RxFillRingEmptyDescs} tx_ring_empty={TxRingEmptyDescs}";
}
