using System.Runtime.InteropServices;

namespace Appliance.Interop;

/// <summary>libc calls for network namespaces and the bind mounts that name them (sched.h, sys/mount.h,
/// sys/file.h; open and mount are <see cref="LibC"/>'s). Errors come back as -1 with errno. Their constants are
/// Tmds.LibC's (CLONE_NEWNET, O_*, MS_*, MNT_DETACH; O_DIRECTORY is per architecture there), except flock's.</summary>
public static partial class NetNsCalls
{
    private const string Lib = "libc";

    /// <summary>flock(2) operations (sys/file.h): not in Tmds.LibC 0.5.0, like flock itself.</summary>
    public const int LOCK_EX = 2, LOCK_UN = 8;

    public static int SetNs(int fd, int nsType) => Tmds.Linux.LibC.setns(fd, nsType);

    public static int Unshare(int flags) => Tmds.Linux.LibC.unshare(flags);

    public static unsafe int MkDir(string path, int mode)
    {
        fixed (byte* p = Utf8Z.Of(path)) return Tmds.Linux.LibC.mkdir(p, (ushort)mode);
    }

    public static unsafe int Unlink(string path)
    {
        fixed (byte* p = Utf8Z.Of(path)) return Tmds.Linux.LibC.unlink(p);
    }

    public static unsafe int Umount2(string target, int flags)
    {
        fixed (byte* t = Utf8Z.Of(target)) return Tmds.Linux.LibC.umount2(t, flags);
    }

    // flock(2): not in Tmds.LibC 0.5.0.

    [LibraryImport(Lib, EntryPoint = "flock", SetLastError = true)]
    public static partial int Flock(int fd, int operation);
}
