using System.Runtime.InteropServices;

namespace Appliance.Interop;

/// <summary>Ownership and permission calls: fchmod, chmod (exact, whatever the umask), a bound socket's group and mode without following links, a file's owner
/// and mode (statx, whose layout is the same on every architecture), and a group's id (getgrnam, so NSS
/// sources count).</summary>
public static unsafe partial class FileSecurity
{
    private static int FchmodNative(int fd, uint mode) => Tmds.Linux.LibC.fchmod(fd, (ushort)mode);

    private static int ChmodNative(string path, uint mode)
    {
        fixed (byte* p = Utf8Z.Of(path)) return Tmds.Linux.LibC.chmod(p, (ushort)mode);
    }

    // getgrnam(3): not in Tmds.LibC 0.5.0.
    [LibraryImport("libc", EntryPoint = "getgrnam", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial nint GetGrNam(string name);

    /// <summary>fchmod(2) on an open descriptor. On a socket not yet bound, it sets the mode a Unix socket's file
    /// gets at bind (bind masks it with the umask, so it can only come out tighter), without touching the
    /// process-wide umask.</summary>
    public static void Fchmod(nint fd, UnixFileMode mode)
    {
        if (FchmodNative((int)fd, (uint)mode) != 0)
            throw PlatformException.FromLastError("fchmod", $"fd {fd}");
    }

    /// <summary>Gives the Unix socket file at <paramref name="path"/> the group (when not null) and exactly the mode,
    /// without following a symbolic link. The path is opened O_PATH|O_NOFOLLOW and must name a socket owned by this
    /// process's user; the owner and mode are then set on that very inode (fchownat with AT_EMPTY_PATH, chmod
    /// through /proc/self/fd as glibc's fchmodat does). So whatever someone who can write the socket's folder put in
    /// its place after bind — a symbolic link to /etc/shadow, another file — is refused, never chmod'ed or chown'ed
    /// as root.</summary>
    public static void SetSocketAccess(string path, uint? group, UnixFileMode mode)
    {
        int fd = LibC.Open(path, Tmds.Linux.LibC.O_PATH | Tmds.Linux.LibC.O_NOFOLLOW | Tmds.Linux.LibC.O_CLOEXEC);
        if (fd < 0) throw PlatformException.FromLastError("open", path);
        try
        {
            byte empty = 0;
            var buffer = Statx(fd, &empty, Tmds.Linux.LibC.AT_EMPTY_PATH, path);
            uint type = buffer.stx_mode & (uint)Tmds.Linux.LibC.S_IFMT;
            uint self = Tmds.Linux.LibC.geteuid();
            if (type != (uint)Tmds.Linux.LibC.S_IFSOCK || buffer.stx_uid != self)
                throw new InvalidOperationException($"{path} is no longer the socket this process bound (file type {Convert.ToString(type, 8)}, owner {buffer.stx_uid}): something replaced it; its owner and mode are left alone");
            if (group is uint gid && Tmds.Linux.LibC.fchownat(fd, &empty, uint.MaxValue, gid, Tmds.Linux.LibC.AT_EMPTY_PATH) != 0)
                throw PlatformException.FromLastError("fchownat", path);
            if (ChmodNative($"/proc/self/fd/{fd}", (uint)mode) != 0)
                throw PlatformException.FromLastError("chmod", path, "/proc must be mounted");
        }
        finally
        {
            LibC.Close(fd);
        }
    }

    /// <summary>chmod(2): exactly <paramref name="mode"/>, whatever the umask.</summary>
    public static void Chmod(string path, UnixFileMode mode)
    {
        if (ChmodNative(path, (uint)mode) != 0)
            throw PlatformException.FromLastError("chmod", path);
    }

    /// <summary>Owner, group and permission bits (with set-id and sticky bits) of <paramref name="path"/>.</summary>
    public static (uint Uid, uint Gid, uint Mode) Owner(string path)
    {
        Tmds.Linux.statx buffer;
        fixed (byte* p = Utf8Z.Of(path)) buffer = Statx(Tmds.Linux.LibC.AT_FDCWD, p, 0, path);
        return (buffer.stx_uid, buffer.stx_gid, buffer.stx_mode & 0xFFFu);
    }

    /// <summary>statx(2) basic stats of <paramref name="path"/> relative to <paramref name="dirFd"/> (with AT_EMPTY_PATH
    /// and an empty path: of the descriptor itself); throws naming <paramref name="what"/>.</summary>
    internal static Tmds.Linux.statx Statx(int dirFd, byte* path, int flags, string what)
    {
        Tmds.Linux.statx buffer;
        if (Tmds.Linux.LibC.statx(dirFd, path, flags, Tmds.Linux.LibC.STATX_BASIC_STATS, &buffer) != 0)
            throw PlatformException.FromLastError("statx", what);
        return buffer;
    }

    /// <summary>The id of group <paramref name="name"/>, or null when no such group exists.</summary>
    public static uint? GroupId(string name)
    {
        nint group = GetGrNam(name);
        // struct group: char *gr_name; char *gr_passwd; gid_t gr_gid; char **gr_mem
        return group == 0 ? null : *(uint*)(group + 2 * sizeof(nint));
    }
}
