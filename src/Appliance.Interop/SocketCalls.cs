using System.Runtime.InteropServices;

namespace Appliance.Interop;

/// <summary>libc socket entry points (sys/socket.h, poll.h, sys/eventfd.h, net/if.h) used for netlink,
/// ioctl sockets and wake-ups. Errors come back as -1 with errno (read with
/// <see cref="Marshal.GetLastPInvokeError"/>).</summary>
public static unsafe partial class SocketCalls
{
    private const string Lib = "libc";

    public const int AF_UNSPEC = 0, AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10, AF_NETLINK = 16;
    public const int SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_RAW = 3, SOCK_CLOEXEC = 0x80000, SOCK_NONBLOCK = 0x800;
    public const int SOL_SOCKET = 1, SO_RCVBUF = 8, SO_SNDBUF = 7, SO_RCVBUFFORCE = 33;
    /// <summary>Socket busy polling (asm-generic/socket.h): SO_BUSY_POLL µs, SO_PREFER_BUSY_POLL (5.11+), SO_BUSY_POLL_BUDGET (5.11+).</summary>
    public const int SO_BUSY_POLL = 46, SO_PREFER_BUSY_POLL = 69, SO_BUSY_POLL_BUDGET = 70;
    public const int MSG_DONTWAIT = 0x40, MSG_PEEK = 0x2, MSG_TRUNC = 0x20;
    public const short POLLIN = 0x1, POLLERR = 0x8, POLLHUP = 0x10;
    public const int EFD_CLOEXEC = 0x80000, EFD_NONBLOCK = 0x800;

    /// <summary>struct pollfd.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short REvents;
    }

    [LibraryImport(Lib, EntryPoint = "socket", SetLastError = true)]
    public static partial int Socket(int domain, int type, int protocol);

    [LibraryImport(Lib, EntryPoint = "bind", SetLastError = true)]
    public static partial int Bind(int fd, void* addr, int addrLen);

    [LibraryImport(Lib, EntryPoint = "sendto", SetLastError = true)]
    public static partial nint SendTo(int fd, void* buf, nuint len, int flags, void* addr, int addrLen);

    [LibraryImport(Lib, EntryPoint = "recv", SetLastError = true)]
    public static partial nint Recv(int fd, void* buf, nuint len, int flags);

    [LibraryImport(Lib, EntryPoint = "setsockopt", SetLastError = true)]
    public static partial int SetSockOpt(int fd, int level, int name, void* value, int len);

    [LibraryImport(Lib, EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(PollFd* fds, nuint count, int timeoutMs);

    [LibraryImport(Lib, EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initial, int flags);

    [LibraryImport(Lib, EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, void* buf, nuint len);

    [LibraryImport(Lib, EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, void* buf, nuint len);

    [LibraryImport(Lib, EntryPoint = "if_nametoindex", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial uint IfNameToIndexNative(string name);

    [LibraryImport(Lib, EntryPoint = "if_indextoname", SetLastError = true)]
    private static partial byte* IfIndexToNameNative(uint index, byte* name);

    /// <summary>Sets an int socket option or throws with the option name.</summary>
    public static void SetIntOption(int fd, int level, int name, int value, string optionName)
    {
        if (SetSockOpt(fd, level, name, &value, sizeof(int)) < 0)
            throw PlatformException.FromLastError($"setsockopt({optionName})");
    }

    /// <summary>The ifindex of <paramref name="name"/> in the calling thread's network namespace, or 0
    /// when there is no such interface.</summary>
    public static int IfNameToIndex(string name) => (int)IfNameToIndexNative(name);

    /// <summary>The name of interface <paramref name="index"/> in the calling thread's network
    /// namespace, or null when there is no such interface.</summary>
    public static string? IfIndexToName(int index)
    {
        byte* buf = stackalloc byte[16]; // IF_NAMESIZE
        return IfIndexToNameNative((uint)index, buf) == null ? null : Marshal.PtrToStringUTF8((nint)buf);
    }
}
