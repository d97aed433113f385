using System.Runtime.InteropServices;

namespace Appliance.Interop;

/// <summary>The libc socket calls AF_XDP needs beyond <see cref="SocketCalls"/>: getsockopt (offsets,
/// options, statistics, SO_ERROR) and recvfrom (zero-copy RX wake-up). Errors are left in errno.</summary>
internal static unsafe partial class XskNative
{
    private const string Lib = "libc";

    public const int SoError = 4;

    [LibraryImport(Lib, EntryPoint = "getsockopt", SetLastError = true)]
    public static partial int GetSockOpt(int fd, int level, int name, void* value, uint* length);

    [LibraryImport(Lib, EntryPoint = "recvfrom", SetLastError = true)]
    public static partial nint RecvFrom(int fd, void* buffer, nuint length, int flags, void* address, uint* addressLength);
}
