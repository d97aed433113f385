using System.Runtime.InteropServices;
using Appliance.Datapath.Links;

namespace Appliance.Datapath.Tests.Engine;

/// <summary>An AF_PACKET raw socket bound to one interface and one EtherType, opened inside a namespace: the
/// tests' traffic source and capture point at the far ends of the appliance.</summary>
public sealed unsafe partial class PacketSocket : IDisposable
{
    private const int SolPacket = 263, PacketIgnoreOutgoing = 23, AfPacket = 17, SockRaw = 3, SolSocket = 1, SoRcvBuf = 8, SoRcvBufForce = 33, SoSndBuf = 7;
    private const short PollIn = 1;

    private int _fd;

    public int IfIndex { get; }

    private PacketSocket(int fd, int ifIndex)
    {
        _fd = fd;
        IfIndex = ifIndex;
    }

    /// <summary>Opens and binds the socket inside <paramref name="netns"/> (null: the test's own namespace).</summary>
    public static PacketSocket Open(string? netns, string interfaceName, ushort etherType) =>
        NetworkNamespace.RunInside(netns, () =>
        {
            int ifIndex = (int)IfNameToIndex(interfaceName);
            if (ifIndex == 0) throw new InvalidOperationException($"no interface {interfaceName} in {netns ?? "the default namespace"}");
            ushort proto = (ushort)((etherType >> 8) | ((etherType & 0xff) << 8));
            int fd = Socket(AfPacket, SockRaw, proto);
            if (fd < 0) throw new InvalidOperationException($"socket(AF_PACKET) failed: errno {Marshal.GetLastPInvokeError()}");
            byte* sll = stackalloc byte[20];
            new Span<byte>(sll, 20).Clear();
            *(ushort*)sll = AfPacket;
            *(ushort*)(sll + 2) = proto;
            *(int*)(sll + 4) = ifIndex;
            if (Bind(fd, sll, 20) != 0)
            {
                int e = Marshal.GetLastPInvokeError();
                Close(fd);
                throw new InvalidOperationException($"bind(AF_PACKET, {interfaceName}) failed: errno {e}");
            }
            int one = 1;
            SetSockOpt(fd, SolPacket, PacketIgnoreOutgoing, &one, 4); // only frames arriving on the interface
            int buf = 16 << 20;
            SetSockOpt(fd, SolSocket, SoRcvBufForce, &buf, 4);
            SetSockOpt(fd, SolSocket, SoSndBuf, &buf, 4);
            return new PacketSocket(fd, ifIndex);
        });

    /// <summary>Sends one frame; retries while the kernel reports no buffer space.</summary>
    public void Send(ReadOnlySpan<byte> frame)
    {
        fixed (byte* p = frame)
        {
            for (int attempt = 0; ; attempt++)
            {
                if (SendNative(_fd, p, (nuint)frame.Length, 0) == frame.Length) return;
                int e = Marshal.GetLastPInvokeError();
                if (e is not (105 or 11) || attempt > 10000) throw new InvalidOperationException($"send(AF_PACKET) failed: errno {e}");
                Thread.Sleep(1);
            }
        }
    }

    /// <summary>Sends one frame once: 0, or the errno (EMSGSIZE for an oversize frame, ENOBUFS under load).</summary>
    public int TrySend(ReadOnlySpan<byte> frame)
    {
        fixed (byte* p = frame)
            return SendNative(_fd, p, (nuint)frame.Length, 0) == frame.Length ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <summary>Receives one frame into <paramref name="buffer"/>; returns its length, or -1 after <paramref name="timeoutMs"/>.</summary>
    public int Receive(Span<byte> buffer, int timeoutMs)
    {
        var pfd = new PollFdNative { Fd = _fd, Events = PollIn };
        if (Poll(&pfd, 1, timeoutMs) <= 0) return -1;
        fixed (byte* p = buffer)
        {
            nint n = Recv(_fd, p, (nuint)buffer.Length, 0);
            if (n < 0) throw new InvalidOperationException($"recv(AF_PACKET) failed: errno {Marshal.GetLastPInvokeError()}");
            return (int)n;
        }
    }

    public void Dispose()
    {
        if (_fd >= 0) Close(_fd);
        _fd = -1;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFdNative
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    private static partial int Socket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "bind", SetLastError = true)]
    private static partial int Bind(int fd, void* addr, int len);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    private static partial nint SendNative(int fd, void* buf, nuint len, int flags);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    private static partial nint Recv(int fd, void* buf, nuint len, int flags);

    [LibraryImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    private static partial int SetSockOpt(int fd, int level, int name, void* value, int len);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static partial int Poll(PollFdNative* fds, nuint n, int timeout);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "if_nametoindex", StringMarshalling = StringMarshalling.Utf8)]
    private static partial uint IfNameToIndex(string name);
}
