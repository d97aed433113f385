using System.Runtime.InteropServices;
using Appliance.Interop;

namespace Appliance.Datapath.Forwarding;

/// <summary>An AF_PACKET socket that receives the group (broadcast/multicast) frames a port hands to the kernel
/// stack — a classic BPF filter on the I/G bit keeps everything else out, PACKET_IGNORE_OUTGOING keeps out what
/// the board sends — or, unbound, transmits frames by ifindex (<see cref="SendTo"/>).</summary>
public sealed unsafe class GroupFrameSocket : IDisposable
{
    private const int AfPacket = 17, SolPacket = 263, PacketIgnoreOutgoing = 23, SoAttachFilter = 26;
    private const ushort EthPAllNetworkOrder = 0x0300; // htons(ETH_P_ALL)

    public int Fd { get; private set; }
    public string Name { get; }

    private GroupFrameSocket(int fd, string name)
    {
        Fd = fd;
        Name = name;
    }

    /// <summary>A receiver of the group frames arriving on <paramref name="ifindex"/>.</summary>
    public static GroupFrameSocket OpenReceiver(string interfaceName, int ifindex)
    {
        // Protocol 0 receives nothing until bind, so no frame slips in before the filter is attached.
        int fd = SocketCalls.Socket(AfPacket, SocketCalls.SOCK_RAW | SocketCalls.SOCK_CLOEXEC | SocketCalls.SOCK_NONBLOCK, 0);
        if (fd < 0) throw PlatformException.FromLastError("socket(AF_PACKET)", interfaceName);
        var s = new GroupFrameSocket(fd, interfaceName);
        try
        {
            s.AttachGroupFilter();
            SocketCalls.SetIntOption(fd, SolPacket, PacketIgnoreOutgoing, 1, "PACKET_IGNORE_OUTGOING");
            SocketCalls.SetIntOption(fd, SocketCalls.SOL_SOCKET, SocketCalls.SO_RCVBUFFORCE, 4 << 20, "SO_RCVBUFFORCE");
            byte* sll = stackalloc byte[20];
            new Span<byte>(sll, 20).Clear();
            *(ushort*)sll = AfPacket;
            *(ushort*)(sll + 2) = EthPAllNetworkOrder;
            *(int*)(sll + 4) = ifindex;
            if (SocketCalls.Bind(fd, sll, 20) != 0) throw PlatformException.FromLastError("bind(AF_PACKET)", interfaceName);
            return s;
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    /// <summary>A transmitter (unbound; every send names its interface).</summary>
    public static GroupFrameSocket OpenTransmitter()
    {
        int fd = SocketCalls.Socket(AfPacket, SocketCalls.SOCK_RAW | SocketCalls.SOCK_CLOEXEC, 0);
        if (fd < 0) throw PlatformException.FromLastError("socket(AF_PACKET)", "flood transmitter");
        return new GroupFrameSocket(fd, "flood transmitter");
    }

    /// <summary>ldb [0]; jset #1, accept, drop — only destinations with the group bit.</summary>
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
        if (SocketCalls.SetSockOpt(Fd, SocketCalls.SOL_SOCKET, SoAttachFilter, prog, 16) != 0)
            throw PlatformException.FromLastError("setsockopt(SO_ATTACH_FILTER)", Name);
    }

    /// <summary>struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; } as one little-endian word.</summary>
    private static ulong Cbpf(ushort code, byte jt, byte jf, uint k) => code | (ulong)jt << 16 | (ulong)jf << 24 | (ulong)k << 32;

    /// <summary>Receives one frame without blocking; 0 when none is queued.</summary>
    public int Receive(Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            nint n = SocketCalls.Recv(Fd, p, (nuint)buffer.Length, SocketCalls.MSG_DONTWAIT);
            if (n >= 0) return (int)n;
            int errno = Marshal.GetLastPInvokeError();
            if (errno is Errno.EAGAIN or Errno.EINTR) return 0;
            throw new PlatformException("recv(AF_PACKET)", Name, errno);
        }
    }

    /// <summary>Transmits <paramref name="frame"/> on interface <paramref name="ifindex"/>; false when the kernel
    /// refuses (interface down or gone, no buffer).</summary>
    public bool SendTo(ReadOnlySpan<byte> frame, int ifindex)
    {
        byte* sll = stackalloc byte[20];
        new Span<byte>(sll, 20).Clear();
        *(ushort*)sll = AfPacket;
        if (frame.Length >= 14) *(ushort*)(sll + 2) = (ushort)(frame[12] | frame[13] << 8); // EtherType, network order
        *(int*)(sll + 4) = ifindex;
        fixed (byte* p = frame)
            return SocketCalls.SendTo(Fd, p, (nuint)frame.Length, 0, sll, 20) == frame.Length;
    }

    public void Dispose()
    {
        if (Fd >= 0) LibC.Close(Fd);
        Fd = -1;
    }
}
