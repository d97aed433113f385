using System.Runtime.InteropServices;
using Appliance.Datapath.Links;
using Appliance.Interop;
using static Tmds.Linux.LibC;

namespace Appliance.Datapath.Tests.Engine;

/// <summary>An AF_PACKET raw socket bound to one interface and one EtherType, opened inside a namespace: the
/// tests' traffic source and capture point at the far ends of the appliance. The appliance's own libc calls
/// (<see cref="SocketCalls"/>, <see cref="PollNative"/>) with Tmds.LibC's constants.</summary>
public sealed unsafe class PacketSocket : IDisposable
{
    private int _fd;
    private readonly Appliance.Datapath.Forwarding.WireFrameReader? _wire;

    public int IfIndex { get; }

    private PacketSocket(int fd, int ifIndex, bool wire)
    {
        _fd = fd;
        IfIndex = ifIndex;
        if (wire) _wire = new Appliance.Datapath.Forwarding.WireFrameReader();
    }

    /// <summary>Opens and binds the socket inside <paramref name="netns"/> (null: the test's own namespace).
    /// <paramref name="wire"/>: it receives frames as they were on the wire, with the VLAN tag the kernel took off
    /// put back (as the appliance's group-frame socket does, <see cref="Appliance.Datapath.Forwarding.WireFrameReader"/>):
    /// a plain packet socket cannot tell a frame that arrived tagged from one that arrived untagged.</summary>
    public static PacketSocket Open(string? netns, string interfaceName, ushort etherType, bool wire = false) =>
        NetworkNamespace.RunInside(netns, () =>
        {
            int ifIndex = SocketCalls.IfNameToIndex(interfaceName);
            if (ifIndex == 0) throw new InvalidOperationException($"no interface {interfaceName} in {netns ?? "the default namespace"}");
            ushort proto = (ushort)((etherType >> 8) | ((etherType & 0xff) << 8));
            int fd = SocketCalls.Socket(AF_PACKET, SOCK_RAW, proto);
            if (fd < 0) throw new InvalidOperationException($"socket(AF_PACKET) failed: errno {Marshal.GetLastPInvokeError()}");
            if (wire) Appliance.Datapath.Forwarding.WireFrameReader.Enable(fd);
            byte* sll = stackalloc byte[20];
            new Span<byte>(sll, 20).Clear();
            *(ushort*)sll = (ushort)AF_PACKET;
            *(ushort*)(sll + 2) = proto;
            *(int*)(sll + 4) = ifIndex;
            if (SocketCalls.Bind(fd, sll, 20) != 0)
            {
                int e = Marshal.GetLastPInvokeError();
                LibC.Close(fd);
                throw new InvalidOperationException($"bind(AF_PACKET, {interfaceName}) failed: errno {e}");
            }
            int one = 1;
            SocketCalls.SetSockOpt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, 4); // only frames arriving on the interface
            int buf = 16 << 20;
            SocketCalls.SetSockOpt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, 4);
            SocketCalls.SetSockOpt(fd, SOL_SOCKET, SO_SNDBUF, &buf, 4);
            return new PacketSocket(fd, ifIndex, wire);
        });

    /// <summary>Sends one frame; retries while the kernel reports no buffer space.</summary>
    public void Send(ReadOnlySpan<byte> frame)
    {
        fixed (byte* p = frame)
        {
            for (int attempt = 0; ; attempt++)
            {
                if (SendOnce(p, frame.Length) == frame.Length) return;
                int e = Marshal.GetLastPInvokeError();
                if (e is not (Errno.ENOBUFS or Errno.EAGAIN) || attempt > 10000) throw new InvalidOperationException($"send(AF_PACKET) failed: errno {e}");
                Thread.Sleep(1);
            }
        }
    }

    /// <summary>Sends one frame once: 0, or the errno (EMSGSIZE for an oversize frame, ENOBUFS under load).</summary>
    public int TrySend(ReadOnlySpan<byte> frame)
    {
        fixed (byte* p = frame)
            return SendOnce(p, frame.Length) == frame.Length ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <summary>send(2): sendto(2) without an address.</summary>
    private nint SendOnce(byte* frame, int length) => SocketCalls.SendTo(_fd, frame, (nuint)length, 0, null, 0);

    /// <summary>Receives one frame into <paramref name="buffer"/>; returns its length, or -1 after <paramref name="timeoutMs"/>.
    /// The ENETDOWN the kernel reports once after the interface went down (a QEMU board's tap when a test pulls its
    /// cable or the board restarts) is no frame: -1, and the socket receives again once the interface is up, as the
    /// appliance's own group-frame socket takes it.</summary>
    public int Receive(Span<byte> buffer, int timeoutMs)
    {
        Span<Tmds.Linux.pollfd> pfd = [PollNative.Input(_fd)];
        if (PollNative.Wait(pfd, timeoutMs) <= 0) return -1;
        int n = _wire is not null ? _wire.Receive(_fd, buffer, 0, out int start) : RecvAt(buffer, out start);
        if (n >= 0)
        {
            if (start != 0) buffer.Slice(start, n).CopyTo(buffer);
            return n;
        }
        int errno = Marshal.GetLastPInvokeError();
        if (errno == Errno.ENETDOWN) return -1;
        throw new InvalidOperationException($"recv(AF_PACKET) failed: errno {Errno.Name(errno)}");
    }

    private int RecvAt(Span<byte> buffer, out int start)
    {
        start = 0;
        fixed (byte* p = buffer) return (int)SocketCalls.Recv(_fd, p, (nuint)buffer.Length, 0);
    }

    public void Dispose()
    {
        if (_fd >= 0) LibC.Close(_fd);
        _fd = -1;
        _wire?.Dispose();
    }
}
