using System.Runtime.InteropServices;

namespace Appliance.Interop;

/// <summary>One AF_XDP socket (socket(AF_XDP, SOCK_RAW)) for one interface queue: UMEM registration, ring
/// sizes, mmap offsets, bind, statistics and the sendto/recvfrom kicks. Every failure says which socket,
/// which interface/queue, and what to do.</summary>
public sealed unsafe class XskSocket : IDisposable
{
    public int Fd { get; private set; }
    public string InterfaceName { get; }
    public int IfIndex { get; }
    public uint QueueId { get; }

    private string Where => $"{InterfaceName} queue {QueueId}";

    private XskSocket(int fd, string interfaceName, int ifIndex, uint queueId)
    {
        Fd = fd;
        InterfaceName = interfaceName;
        IfIndex = ifIndex;
        QueueId = queueId;
    }

    /// <summary>Resolves the interface (in the calling thread's network namespace) and opens the socket.</summary>
    public static XskSocket Open(string interfaceName, uint queueId)
    {
        int ifIndex = ResolveInterface(interfaceName);
        int fd = SocketCalls.Socket(XskConstants.AfXdp, Tmds.Linux.LibC.SOCK_RAW | Tmds.Linux.LibC.SOCK_CLOEXEC, 0);
        if (fd < 0)
            throw PlatformException.FromLastError("socket(AF_XDP)", $"{interfaceName} queue {queueId}",
                Marshal.GetLastPInvokeError() is Errno.EPERM or Errno.EACCES
                    ? "AF_XDP sockets need CAP_NET_RAW: run as root"
                    : "The kernel needs CONFIG_XDP_SOCKETS (AF_XDP, Linux 4.18+)");
        return new XskSocket(fd, interfaceName, ifIndex, queueId);
    }

    /// <summary>if_nametoindex, with an error that names the interface.</summary>
    public static int ResolveInterface(string interfaceName)
    {
        int index = SocketCalls.IfNameToIndex(interfaceName);
        if (index == 0)
            throw new PlatformException("if_nametoindex", interfaceName, Errno.ENODEV,
                "The interface does not exist in this network namespace (check the name, or run inside its namespace)");
        return index;
    }

    /// <summary>XDP_UMEM_REG with the full 32-byte struct (zeroed, so the v1/v2 size rules of afxdp.md §3 hold).</summary>
    public void RegisterUmem(byte* area, ulong length, uint chunkSize, uint headroom)
    {
        XdpUmemReg reg = default;
        reg.Addr = (ulong)area;
        reg.Len = length;
        reg.ChunkSize = chunkSize;
        reg.Headroom = headroom;
        if (SocketCalls.SetSockOpt(Fd, XskConstants.SolXdp, XskConstants.UmemReg, &reg, sizeof(XdpUmemReg)) == 0) return;
        int errno = Marshal.GetLastPInvokeError();
        throw new PlatformException($"setsockopt(XDP_UMEM_REG, {length >> 20} MiB, chunk {chunkSize})", Where, errno, errno switch
        {
            Errno.ENOBUFS or Errno.ENOMEM =>
                "The UMEM is charged to RLIMIT_MEMLOCK: run as root (CAP_IPC_LOCK), raise `ulimit -l`, or use fewer frames",
            Errno.EINVAL => "Frame size must be a power of two between 2048 and the page size, headroom below it",
            _ => null,
        });
    }

    /// <summary>Sets one ring's size (XDP_RX_RING, XDP_TX_RING, XDP_UMEM_FILL_RING, XDP_UMEM_COMPLETION_RING).</summary>
    public void SetRingSize(int option, uint entries, string ringName)
    {
        if (SocketCalls.SetSockOpt(Fd, XskConstants.SolXdp, option, &entries, sizeof(uint)) == 0) return;
        throw PlatformException.FromLastError($"setsockopt({ringName} ring, {entries} entries)", Where,
            "Ring sizes must be powers of two; ENOMEM means the kernel could not allocate the ring");
    }

    /// <summary>XDP_MMAP_OFFSETS; on a ≤ 5.3 kernel (96-byte answer) the flags words are derived as consumer + 4.</summary>
    public XdpMmapOffsets GetMmapOffsets()
    {
        XdpMmapOffsets off = default;
        uint len = (uint)sizeof(XdpMmapOffsets);
        if (SocketCalls.GetSockOpt(Fd, XskConstants.SolXdp, XskConstants.MmapOffsets, &off, &len) != 0)
            throw PlatformException.FromLastError("getsockopt(XDP_MMAP_OFFSETS)", Where);
        if (len == (uint)sizeof(XdpMmapOffsets)) return off;
        if (len != 96)
            throw new PlatformException("getsockopt(XDP_MMAP_OFFSETS)", Where, Errno.EINVAL,
                $"Unexpected answer of {len} bytes (expected 128 or 96): unknown kernel ABI");
        // v1 layout: four { producer, consumer, desc } triples of 24 bytes.
        var v1 = (ulong*)&off;
        var copy = stackalloc ulong[12];
        for (int i = 0; i < 12; i++) copy[i] = v1[i];
        XdpRingOffset V1(int ring) => new()
        {
            Producer = copy[ring * 3], Consumer = copy[ring * 3 + 1], Desc = copy[ring * 3 + 2], Flags = copy[ring * 3 + 1] + 4,
        };
        return new XdpMmapOffsets { Rx = V1(0), Tx = V1(1), Fill = V1(2), Completion = V1(3) };
    }

    /// <summary>Maps one of the rings (page offset XDP_PGOFF_* / XDP_UMEM_PGOFF_*).</summary>
    public MmapRegion MapRing(long pageOffset, nuint length, string ringName) =>
        MmapRegion.Shared(Fd, length, pageOffset, $"{ringName} ring of the AF_XDP socket on {Where}");

    /// <summary>bind(): ZEROCOPY/COPY/NEED_WAKEUP for a UMEM owner, or SHARED_UMEM with the owner's fd.</summary>
    public void Bind(ushort flags, XskSocket? sharedUmemOwner = null)
    {
        SockaddrXdp sa = default;
        sa.Family = XskConstants.AfXdp;
        sa.Flags = flags;
        sa.IfIndex = (uint)IfIndex;
        sa.QueueId = QueueId;
        if (sharedUmemOwner is not null)
        {
            sa.Flags |= XskConstants.BindSharedUmem;
            sa.SharedUmemFd = (uint)sharedUmemOwner.Fd;
        }
        if (SocketCalls.Bind(Fd, &sa, sizeof(SockaddrXdp)) == 0) return;
        int errno = Marshal.GetLastPInvokeError();
        string mode = (flags & XskConstants.BindZeroCopy) != 0 ? "zero-copy"
            : (flags & XskConstants.BindCopy) != 0 ? "copy" : sharedUmemOwner is not null ? "shared UMEM" : "auto";
        throw new PlatformException($"bind(AF_XDP, {mode})", Where, errno, errno switch
        {
            Errno.EBUSY => $"Queue {QueueId} of {InterfaceName} is already bound by another AF_XDP socket " +
                           "(another `meta-appliance forward` or AF_XDP program?); stop it first",
            Errno.EOPNOTSUPP => $"The driver of {InterfaceName} has no AF_XDP zero-copy support; use --zero-copy auto or off (copy mode)",
            Errno.EINVAL => $"Check that queue {QueueId} exists on {InterfaceName} (ethtool -l; one queue per forwarding worker: `ethtool -L`, or a veth made with numrxqueues/numtxqueues) and that shared-UMEM sockets pass no mode flags",
            Errno.ENETDOWN => $"Bring {InterfaceName} up first",
            _ => null,
        });
    }

    /// <summary>XDP_OPTIONS after bind: true when the socket runs in zero-copy mode.</summary>
    public bool IsZeroCopy()
    {
        uint flags = 0, len = sizeof(uint);
        if (SocketCalls.GetSockOpt(Fd, XskConstants.SolXdp, XskConstants.Options, &flags, &len) != 0)
            throw PlatformException.FromLastError("getsockopt(XDP_OPTIONS)", Where);
        return (flags & XskConstants.OptionsZeroCopy) != 0;
    }

    /// <summary>XDP_STATISTICS (the kernel's drops for this socket).</summary>
    public XdpStatistics GetStatistics()
    {
        XdpStatistics st = default;
        uint len = (uint)sizeof(XdpStatistics);
        if (SocketCalls.GetSockOpt(Fd, XskConstants.SolXdp, XskConstants.Statistics, &st, &len) != 0)
            throw PlatformException.FromLastError("getsockopt(XDP_STATISTICS)", Where);
        return st;
    }

    /// <summary>XDP_MAX_TX_SKB_BUDGET (6.17+): copy-mode descriptors sent per sendto(). False when the kernel lacks it.</summary>
    public bool TrySetTxBudget(uint descriptors) =>
        SocketCalls.SetSockOpt(Fd, XskConstants.SolXdp, XskConstants.MaxTxSkbBudget, &descriptors, sizeof(uint)) == 0;

    /// <summary>Socket busy polling (SO_PREFER_BUSY_POLL, SO_BUSY_POLL = <paramref name="microseconds"/>,
    /// SO_BUSY_POLL_BUDGET = <paramref name="budget"/>; kernel 5.11+): a <see cref="KickRx"/> then runs the device's
    /// NAPI in this thread instead of waiting for the softirq. Returns 0, or the errno of the first option the kernel
    /// refused (ENOPROTOOPT/EINVAL: too old; EPERM: no CAP_NET_ADMIN); the socket works the same without it.</summary>
    public int TryEnableBusyPoll(int microseconds, int budget)
    {
        int on = 1;
        if (SocketCalls.SetSockOpt(Fd, Tmds.Linux.LibC.SOL_SOCKET, SocketCalls.SO_PREFER_BUSY_POLL, &on, sizeof(int)) != 0
            || SocketCalls.SetSockOpt(Fd, Tmds.Linux.LibC.SOL_SOCKET, Tmds.Linux.LibC.SO_BUSY_POLL, &microseconds, sizeof(int)) != 0
            || SocketCalls.SetSockOpt(Fd, Tmds.Linux.LibC.SOL_SOCKET, SocketCalls.SO_BUSY_POLL_BUDGET, &budget, sizeof(int)) != 0)
            return Marshal.GetLastPInvokeError();
        return 0;
    }

    /// <summary>SO_INCOMING_NAPI_ID: the NAPI instance whose frames this socket received, which a busy poll (recvfrom
    /// with SO_BUSY_POLL) runs; 0 before the first frame, and for good where the interface's receive queue registered
    /// none (veth since Linux 6.13: its XDP queue info is registered before NAPI ids are handed out). Never throws.</summary>
    public uint IncomingNapiId()
    {
        uint id = 0;
        uint len = sizeof(uint);
        return SocketCalls.GetSockOpt(Fd, Tmds.Linux.LibC.SOL_SOCKET, SocketCalls.SO_INCOMING_NAPI_ID, &id, &len) == 0 ? id : 0;
    }

    /// <summary>sendto(MSG_DONTWAIT): transmits (copy mode) or wakes the driver (zero-copy). Returns 0 or the errno
    /// (EAGAIN/EBUSY/ENOBUFS are normal under load); never throws: this is on the hot path.</summary>
    public int KickTx()
    {
        if (SocketCalls.SendTo(Fd, null, 0, Tmds.Linux.LibC.MSG_DONTWAIT, null, 0) >= 0) return 0;
        return Marshal.GetLastPInvokeError();
    }

    /// <summary>recvfrom(MSG_DONTWAIT): wakes a zero-copy driver's RX when the fill ring asks for it.</summary>
    public int KickRx()
    {
        if (SocketCalls.RecvFrom(Fd, null, 0, Tmds.Linux.LibC.MSG_DONTWAIT, null, null) >= 0) return 0;
        return Marshal.GetLastPInvokeError();
    }

    /// <summary>SO_ERROR (read and cleared): ENETDOWN after the interface was unregistered.</summary>
    public int TakeSocketError()
    {
        int err = 0;
        uint len = sizeof(int);
        if (SocketCalls.GetSockOpt(Fd, Tmds.Linux.LibC.SOL_SOCKET, Tmds.Linux.LibC.SO_ERROR, &err, &len) != 0)
            return Marshal.GetLastPInvokeError();
        return err;
    }

    public void Dispose()
    {
        if (Fd < 0) return;
        LibC.Close(Fd);
        Fd = -1;
    }

    public override string ToString() => $"AF_XDP socket {Fd} on {Where}";
}
