using System.Runtime.InteropServices;

namespace Appliance.Interop;

/// <summary>The few libc entry points every platform call goes through (Tmds.LibC's). Errors come back as errno
/// (read with <see cref="Marshal.GetLastPInvokeError"/>); callers turn them into <see cref="PlatformException"/>.</summary>
public static unsafe class LibC
{
    /// <summary>syscall(2) for the calls libc has no wrapper for (bpf, finit_module).</summary>
    public static long Syscall(long number, long a1, long a2, long a3) =>
        (Tmds.Linux.ssize_t)Tmds.Linux.LibC.syscall((int)number, (void*)a1, (void*)a2, (void*)a3);

    public static int Close(int fd) => Tmds.Linux.LibC.close(fd);

    /// <summary>open(2); <paramref name="mode"/> matters only with O_CREAT.</summary>
    public static int Open(string path, int flags, int mode = 0)
    {
        fixed (byte* p = Utf8Z.Of(path)) return Tmds.Linux.LibC.open(p, flags, (ushort)mode);
    }

    /// <summary>mount(2) (the MS_* flags are Tmds.LibC's); a null file system type or data passes NULL.</summary>
    public static int Mount(string source, string target, string? fileSystemType, ulong flags, string? data = null)
    {
        fixed (byte* s = Utf8Z.Of(source), t = Utf8Z.Of(target), f = Utf8Z.Of(fileSystemType), d = Utf8Z.Of(data))
            return Tmds.Linux.LibC.mount(s, t, f, (Tmds.Linux.ulong_t)flags, d);
    }

    public static int GetPid() => Tmds.Linux.LibC.getpid();

    /// <summary>The message libc gives for <paramref name="errno"/> ("Operation not permitted"), from the
    /// thread-safe POSIX strerror_r.</summary>
    public static string Describe(int errno)
    {
        const int Size = 256;
        byte* buffer = stackalloc byte[Size];
        buffer[0] = 0;
        Tmds.Linux.LibC.strerror_r(errno, buffer, Size); // EINVAL for an unknown errno, with "Unknown error N" in the buffer
        return buffer[0] != 0 ? Marshal.PtrToStringUTF8((nint)buffer)! : $"errno {errno}";
    }

    /// <summary>True on 64-bit Arm, where syscall numbers differ from x86-64.</summary>
    public static bool IsArm64 => RuntimeInformation.ProcessArchitecture == Architecture.Arm64;
}
