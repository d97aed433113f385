namespace Appliance.Datapath.Xsk;

/// <summary>Sizes for UMEMs and rings (defaults after afxdp.md §13/§19 and the bench's afxdp_fwd).</summary>
public sealed record XskOptions
{
    /// <summary>UMEM chunk size: 4096 (default) or 2048.</summary>
    public uint FrameSize { get; init; } = 4096;
    /// <summary>User headroom per frame, in front of the kernel's 256 bytes.</summary>
    public uint Headroom { get; init; }
    public uint RxRingSize { get; init; } = 2048;
    public uint TxRingSize { get; init; } = 2048;
    public uint CompletionRingSize { get; init; } = 2048;
    /// <summary>Frames kept with the kernel for reception per port. The FILL ring is twice as large, because
    /// the kernel publishes its FILL consumer index lazily (bench README caveat 6b).</summary>
    public uint FillFrames { get; init; } = 2048;
    /// <summary>XDP_MAX_TX_SKB_BUDGET: copy-mode frames sent per sendto() (kernel default 32).</summary>
    public uint TxBudget { get; init; } = 256;
    /// <summary>How long bind() is retried on EBUSY: the kernel releases a closed socket's queue asynchronously.</summary>
    public TimeSpan BindBusyRetry { get; init; } = TimeSpan.FromSeconds(3);
    /// <summary>All copy-mode ports share one UMEM (default: forwarding between them moves descriptors, no copy).
    /// False gives every port a UMEM of its own (isolation between tenants; each crossing costs one memcpy).</summary>
    public bool ShareCopyUmem { get; init; } = true;
    /// <summary>SO_BUSY_POLL for every socket, in µs (0: no busy polling). Used only under load: the worker kicks a
    /// port's RX (which busy-polls its NAPI) only after a full batch; an idle worker sleeps in poll().</summary>
    public int BusyPollMicroseconds { get; init; } = 20;
    /// <summary>SO_BUSY_POLL_BUDGET: frames one busy poll may process.</summary>
    public int BusyPollBudget { get; init; } = 64;
    /// <summary>Check every frame move against the ledger (tests; costs a compare per move).</summary>
    public bool CheckFrameTransitions { get; init; }

    /// <summary>Frames a UMEM needs per port: its fill share, a full TX ring and two batches in flight.</summary>
    public uint FramesPerPort => FillFrames + TxRingSize + 128;
}
