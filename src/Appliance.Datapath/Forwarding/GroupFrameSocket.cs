using System.Runtime.InteropServices;
using Appliance.Interop;

namespace Appliance.Datapath.Forwarding;

/// <summary>An AF_PACKET socket that receives the group (broadcast/multicast) frames a port hands to the kernel
/// stack — a classic BPF filter on the I/G bit keeps everything else out, PACKET_IGNORE_OUTGOING keeps out what
/// the board sends; it hands each frame over as it was on the wire, with the VLAN tag the kernel took off
/// (<see cref="WireFrameReader"/>) — or, unbound, transmits frames by ifindex without ever waiting (<see cref="SendTo"/>;
/// the flooder has one per interface it sends into, <see cref="GroupFrameTransmitters"/>).</summary>
public sealed unsafe class GroupFrameSocket : IDisposable
{
    private const ushort EthPAllNetworkOrder = 0x0300; // htons(ETH_P_ALL) (linux/if_ether.h; not in Tmds.LibC)

    public int Fd { get; private set; }
    public string Name { get; }
    private readonly WireFrameReader? _reader;

    private GroupFrameSocket(int fd, string name, WireFrameReader? reader = null)
    {
        Fd = fd;
        Name = name;
        _reader = reader;
    }

    /// <summary>A receiver of the group frames arriving on <paramref name="ifindex"/>.</summary>
    public static GroupFrameSocket OpenReceiver(string interfaceName, int ifindex)
    {
        // Protocol 0 receives nothing until bind, so no frame slips in before the filter is attached.
        int fd = SocketCalls.Socket(Tmds.Linux.LibC.AF_PACKET, Tmds.Linux.LibC.SOCK_RAW | Tmds.Linux.LibC.SOCK_CLOEXEC | Tmds.Linux.LibC.SOCK_NONBLOCK, 0);
        if (fd < 0) throw PlatformException.FromLastError("socket(AF_PACKET)", interfaceName);
        var s = new GroupFrameSocket(fd, interfaceName, new WireFrameReader());
        try
        {
            s.AttachGroupFilter();
            WireFrameReader.Enable(fd);
            SocketCalls.SetIntOption(fd, Tmds.Linux.LibC.SOL_PACKET, Tmds.Linux.LibC.PACKET_IGNORE_OUTGOING, 1, "PACKET_IGNORE_OUTGOING");
            SocketCalls.SetIntOption(fd, Tmds.Linux.LibC.SOL_SOCKET, Tmds.Linux.LibC.SO_RCVBUFFORCE, 4 << 20, "SO_RCVBUFFORCE");
            var sll = new Tmds.Linux.sockaddr_ll
            {
                sll_family = (ushort)Tmds.Linux.LibC.AF_PACKET, sll_protocol = EthPAllNetworkOrder, sll_ifindex = ifindex,
            };
            if (SocketCalls.Bind(fd, &sll, sizeof(Tmds.Linux.sockaddr_ll)) != 0) throw PlatformException.FromLastError("bind(AF_PACKET)", interfaceName);
            return s;
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    /// <summary>A transmitter (unbound, protocol 0: it receives nothing; every send names its interface) that never
    /// blocks (<see cref="SendTo"/>); null with the errno when the kernel gives no socket (out of descriptors or memory).</summary>
    public static GroupFrameSocket? TryOpenTransmitter(string name, out int errno)
    {
        int fd = SocketCalls.Socket(Tmds.Linux.LibC.AF_PACKET, Tmds.Linux.LibC.SOCK_RAW | Tmds.Linux.LibC.SOCK_CLOEXEC | Tmds.Linux.LibC.SOCK_NONBLOCK, 0);
        errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        return fd < 0 ? null : new GroupFrameSocket(fd, name);
    }

    /// <summary>ldb [0]; jset #1, accept, drop — only destinations with the group bit. struct sock_fprog and
    /// sock_filter (linux/filter.h) are laid out here: Tmds.LibC 0.5.0 lacks them.</summary>
    private void AttachGroupFilter()
    {
        ulong* filter = stackalloc ulong[4];
        filter[0] = Cbpf(0x30, 0, 0, 0);        // ldb [0]
        filter[1] = Cbpf(0x45, 0, 1, 1);        // jset #1 ? next : skip one
        filter[2] = Cbpf(0x06, 0, 0, 0x40000);  // ret #262144 (whole frame)
        filter[3] = Cbpf(0x06, 0, 0, 0);        // ret #0
        byte* prog = stackalloc byte[16];
        new Span<byte>(prog, 16).Clear();
        *(ushort*)prog = 4;
        *(ulong**)(prog + 8) = filter;
        if (SocketCalls.SetSockOpt(Fd, Tmds.Linux.LibC.SOL_SOCKET, Tmds.Linux.LibC.SO_ATTACH_FILTER, prog, 16) != 0)
            throw PlatformException.FromLastError("setsockopt(SO_ATTACH_FILTER)", Name);
    }

    /// <summary>struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; } as one little-endian word.</summary>
    private static ulong Cbpf(ushort code, byte jt, byte jf, uint k) => code | (ulong)jt << 16 | (ulong)jf << 24 | (ulong)k << 32;

    /// <summary>Receives one frame without blocking, as it was on the wire: <c>buffer.Slice(start, length)</c>
    /// (<see cref="WireFrameReader.Receive"/>), its length returned; 0 when none is queued, and 0 for the ENETDOWN the
    /// kernel reports once when the interface goes down (the socket receives again when it comes back up).</summary>
    public int Receive(Span<byte> buffer, out int start)
    {
        var reader = _reader ?? throw new InvalidOperationException("a transmitter receives nothing");
        int n = reader.Receive(Fd, buffer, Tmds.Linux.LibC.MSG_DONTWAIT, out start);
        if (n >= 0) return n;
        int errno = Marshal.GetLastPInvokeError();
        if (errno is Errno.EAGAIN or Errno.EINTR or Errno.ENETDOWN) return 0;
        throw new PlatformException("recvmsg(AF_PACKET)", Name, errno);
    }

    /// <summary>Transmits <paramref name="frame"/> on interface <paramref name="ifindex"/> without waiting (MSG_DONTWAIT, and
    /// the socket is non-blocking): 0 when it went, else the errno the kernel refused it with, read right after the call —
    /// EAGAIN when the socket's send buffer is full (what it sent before still sits in the interface's queue: a qdisc
    /// that does not drain, a stopped queue), ENOBUFS when the qdisc dropped it, ENETDOWN, ENXIO, EMSGSIZE.</summary>
    public int SendTo(ReadOnlySpan<byte> frame, int ifindex)
    {
        var sll = new Tmds.Linux.sockaddr_ll { sll_family = (ushort)Tmds.Linux.LibC.AF_PACKET, sll_ifindex = ifindex };
        if (frame.Length >= 14) sll.sll_protocol = (ushort)(frame[12] | frame[13] << 8); // EtherType, network order
        fixed (byte* p = frame)
        {
            nint sent = SocketCalls.SendTo(Fd, p, (nuint)frame.Length, Tmds.Linux.LibC.MSG_DONTWAIT, &sll, sizeof(Tmds.Linux.sockaddr_ll));
            if (sent == frame.Length) return 0;
            // AF_PACKET sends a raw frame whole or not at all; a short count would still be a failure.
            return sent < 0 ? Marshal.GetLastPInvokeError() : Errno.ENOBUFS;
        }
    }

    public void Dispose()
    {
        if (Fd >= 0) LibC.Close(Fd);
        Fd = -1;
        _reader?.Dispose();
    }
}
