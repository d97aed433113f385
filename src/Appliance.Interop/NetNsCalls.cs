using System.Runtime.InteropServices;

namespace Appliance.Interop;

/// <summary>libc calls for network namespaces and the bind mounts that name them (sched.h, sys/mount.h,
/// fcntl.h). Errors come back as -1 with errno.</summary>
public static partial class NetNsCalls
{
    private const string Lib = "libc";

    public const int CLONE_NEWNET = 0x40000000;
    public const int O_RDONLY = 0, O_CREAT = 0x40, O_EXCL = 0x80, O_CLOEXEC = 0x80000;

    /// <summary>O_DIRECTORY differs by architecture: 0200000 on x86-64, 040000 on arm64.</summary>
    public static int O_DIRECTORY => LibC.IsArm64 ? 0x4000 : 0x10000;
    public const ulong MS_BIND = 0x1000, MS_REC = 0x4000, MS_SHARED = 1 << 20;
    public const int MNT_DETACH = 2;
    public const int LOCK_EX = 2, LOCK_UN = 8;

    [LibraryImport(Lib, EntryPoint = "setns", SetLastError = true)]
    public static partial int SetNs(int fd, int nsType);

    [LibraryImport(Lib, EntryPoint = "unshare", SetLastError = true)]
    public static partial int Unshare(int flags);

    [LibraryImport(Lib, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags, int mode);

    [LibraryImport(Lib, EntryPoint = "mkdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MkDir(string path, int mode);

    [LibraryImport(Lib, EntryPoint = "unlink", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Unlink(string path);

    [LibraryImport(Lib, EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Mount(string source, string target, string fsType, ulong flags, nint data);

    [LibraryImport(Lib, EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Umount2(string target, int flags);

    [LibraryImport(Lib, EntryPoint = "flock", SetLastError = true)]
    public static partial int Flock(int fd, int operation);
}
