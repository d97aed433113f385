namespace Appliance.Interop;

/// <summary>AF_XDP constants (include/uapi/linux/if_xdp.h; shared/reference/afxdp.md §2).</summary>
public static class XskConstants
{
    public const int AfXdp = 44;
    public const int SolXdp = 283;

    // socket options at SOL_XDP
    public const int MmapOffsets = 1, RxRing = 2, TxRing = 3, UmemReg = 4, UmemFillRing = 5,
        UmemCompletionRing = 6, Statistics = 7, Options = 8, MaxTxSkbBudget = 9;

    // bind flags (sockaddr_xdp.sxdp_flags)
    public const ushort BindSharedUmem = 1 << 0, BindCopy = 1 << 1, BindZeroCopy = 1 << 2, BindUseNeedWakeup = 1 << 3;

    /// <summary>XDP_RING_NEED_WAKEUP in the flags word of the FILL and TX rings.</summary>
    public const uint RingNeedWakeup = 1 << 0;

    /// <summary>XDP_OPTIONS_ZEROCOPY in struct xdp_options.</summary>
    public const uint OptionsZeroCopy = 1 << 0;

    // mmap page offsets of the four rings
    public const long PgoffRxRing = 0, PgoffTxRing = 0x80000000, PgoffFillRing = 0x100000000, PgoffCompletionRing = 0x180000000;

    /// <summary>XDP_PACKET_HEADROOM: bytes the kernel keeps in front of every received frame.</summary>
    public const int PacketHeadroom = 256;
}
