using System.Runtime.InteropServices;

namespace Appliance.Interop;

/// <summary>The libc socket calls of netlink, AF_XDP, AF_PACKET and ioctl sockets, and the read/write/eventfd of
/// wake-ups, from Tmds.LibC with .NET integer types at the boundary: its socklen_t, size_t and ssize_t are converted
/// here, once (SocketCallsTests checks each conversion). Errors come back as -1 with errno, read with
/// <see cref="Marshal.GetLastPInvokeError"/> (Tmds.LibC imports these with SetLastError). The constants are
/// Tmds.LibC's (<c>Tmds.Linux.LibC.SOL_SOCKET</c>, <c>MSG_DONTWAIT</c>, ...); here only those it lacks.
/// poll is in <see cref="PollNative"/>.</summary>
public static unsafe partial class SocketCalls
{
    /// <summary>Socket busy polling knobs (asm-generic/socket.h, kernel 5.11+) that Tmds.LibC 0.5.0 lacks
    /// (it has SO_BUSY_POLL).</summary>
    public const int SO_INCOMING_NAPI_ID = 56, SO_PREFER_BUSY_POLL = 69, SO_BUSY_POLL_BUDGET = 70;

    public static int Socket(int domain, int type, int protocol) => Tmds.Linux.LibC.socket(domain, type, protocol);

    public static int Bind(int fd, void* addr, int addrLen) => Tmds.Linux.LibC.bind(fd, (Tmds.Linux.sockaddr*)addr, addrLen);

    public static nint SendTo(int fd, void* buf, nuint len, int flags, void* addr, int addrLen) =>
        (nint)(long)Tmds.Linux.LibC.sendto(fd, buf, Size(len), flags, (Tmds.Linux.sockaddr*)addr, addrLen);

    public static nint Recv(int fd, void* buf, nuint len, int flags) =>
        (nint)(long)Tmds.Linux.LibC.recv(fd, buf, Size(len), flags);

    /// <summary>recvfrom(2); <paramref name="addrLen"/> is the socklen_t in/out length (null with a null address).</summary>
    public static nint RecvFrom(int fd, void* buf, nuint len, int flags, void* addr, uint* addrLen) =>
        (nint)(long)Tmds.Linux.LibC.recvfrom(fd, buf, Size(len), flags, (Tmds.Linux.sockaddr*)addr, (Tmds.Linux.socklen_t*)addrLen);

    /// <summary>recvmsg(2): the message header (its iovec and control buffer) is the caller's.</summary>
    public static nint RecvMsg(int fd, Tmds.Linux.msghdr* message, int flags) =>
        (nint)(long)Tmds.Linux.LibC.recvmsg(fd, message, flags);

    public static int SetSockOpt(int fd, int level, int name, void* value, int len) =>
        Tmds.Linux.LibC.setsockopt(fd, level, name, value, len);

    /// <summary>getsockopt(2); <paramref name="len"/> is the socklen_t in/out length.</summary>
    public static int GetSockOpt(int fd, int level, int name, void* value, uint* len) =>
        Tmds.Linux.LibC.getsockopt(fd, level, name, value, (Tmds.Linux.socklen_t*)len);

    public static int EventFd(uint initial, int flags) => Tmds.Linux.LibC.eventfd(initial, flags);

    public static nint Read(int fd, void* buf, nuint len) => (nint)(long)Tmds.Linux.LibC.read(fd, buf, Size(len));

    public static nint Write(int fd, void* buf, nuint len) => (nint)(long)Tmds.Linux.LibC.write(fd, buf, Size(len));

    private static Tmds.Linux.size_t Size(nuint length) => (Tmds.Linux.size_t)(ulong)length;

    /// <summary>Sets an int socket option or throws with the option name.</summary>
    public static void SetIntOption(int fd, int level, int name, int value, string optionName)
    {
        if (SetSockOpt(fd, level, name, &value, sizeof(int)) < 0)
            throw PlatformException.FromLastError($"setsockopt({optionName})");
    }

    // if_nametoindex (net/if.h): not in Tmds.LibC 0.5.0.

    [LibraryImport("libc", EntryPoint = "if_nametoindex", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial uint IfNameToIndexNative(string name);

    /// <summary>The ifindex of <paramref name="name"/> in the calling thread's network namespace, or 0
    /// when there is no such interface.</summary>
    public static int IfNameToIndex(string name) => (int)IfNameToIndexNative(name);
}
