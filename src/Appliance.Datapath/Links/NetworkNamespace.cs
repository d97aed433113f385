using System.Runtime.ExceptionServices;
using Appliance.Interop;
using static Appliance.Interop.NetNsCalls;
using static Tmds.Linux.LibC;

namespace Appliance.Datapath.Links;

/// <summary>Named network namespaces kept the way iproute2 keeps them (a bind mount of the namespace file
/// under <see cref="RunDirectory"/>), so `ip netns` sees ours and we see its. Work inside a namespace runs on
/// a dedicated thread that enters it; the calling thread never changes namespace.</summary>
public static class NetworkNamespace
{
    /// <summary>iproute2's NETNS_RUN_DIR.</summary>
    public const string RunDirectory = "/var/run/netns";

    /// <summary>The bind-mount file that names <paramref name="name"/>.</summary>
    public static string PathOf(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('/') || name is "." or "..")
            throw new ArgumentException($"'{name}' is not a valid namespace name (no '/', not '.' or '..')", nameof(name));
        return Path.Combine(RunDirectory, name);
    }

    public static bool Exists(string name) => File.Exists(PathOf(name));

    /// <summary>The names under <see cref="RunDirectory"/>, as `ip netns list` shows them.</summary>
    public static IReadOnlyList<string> List() =>
        Directory.Exists(RunDirectory)
            ? Directory.GetFiles(RunDirectory).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray()
            : [];

    /// <summary>Creates namespace <paramref name="name"/> like `ip netns add`: makes <see cref="RunDirectory"/>
    /// a shared mount point (bind-mounting it onto itself first if needed), creates the name file, then on a
    /// dedicated thread unshares a new network namespace and bind-mounts /proc/thread-self/ns/net onto the file.
    /// Throws EEXIST when the name is taken.</summary>
    public static void Create(string name)
    {
        string path = PathOf(name);
        if (MkDir(RunDirectory, 0x1ED /* 0755 */) < 0 && LastErrno != Errno.EEXIST)
            throw PlatformException.FromLastError("mkdir", RunDirectory);
        MakeRunDirectoryShared();

        int fd = LibC.Open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
        if (fd < 0)
            throw PlatformException.FromLastError("create network namespace", name,
                LastErrno == Errno.EEXIST ? $"A namespace named '{name}' already exists; delete it (ip netns del {name}) or pick another name" : null);
        LibC.Close(fd);

        try
        {
            RunOnOwnThread($"netns add {name}", () =>
            {
                if (Unshare(CLONE_NEWNET) < 0) throw PlatformException.FromLastError("unshare(CLONE_NEWNET)", name);
                if (LibC.Mount("/proc/thread-self/ns/net", path, "none", MS_BIND) < 0)
                    throw PlatformException.FromLastError($"mount --bind /proc/thread-self/ns/net {path}", name);
                return 0;
            });
        }
        catch
        {
            Unlink(path);
            throw;
        }
    }

    /// <summary>Deletes namespace <paramref name="name"/> like `ip netns del`: lazy unmount, then unlink. The
    /// kernel destroys it (and the interfaces in it) once no process or open fd holds it.</summary>
    public static void Delete(string name)
    {
        string path = PathOf(name);
        if (!File.Exists(path))
            throw new PlatformException("delete network namespace", name, Errno.ENOENT, $"No namespace named '{name}' (see ip netns list)");
        Umount2(path, MNT_DETACH); // EINVAL when it was never mounted (a half-created name): still unlink it
        if (Unlink(path) < 0) throw PlatformException.FromLastError("unlink", path);
    }

    /// <summary>Opens the namespace file (for IFLA_NET_NS_FD or setns). Dispose the handle when done.</summary>
    public static NamespaceHandle Open(string name)
    {
        int fd = LibC.Open(PathOf(name), O_RDONLY | O_CLOEXEC, 0);
        if (fd < 0)
            throw PlatformException.FromLastError("open network namespace", name,
                LastErrno == Errno.ENOENT ? $"No namespace named '{name}' (see ip netns list); create it first or let the appliance create it" : null);
        return new NamespaceHandle(name, fd);
    }

    /// <summary>Runs <paramref name="action"/> inside namespace <paramref name="name"/> on a dedicated thread
    /// (setns there, restored before the thread ends) and returns its result; with a null name it runs in
    /// the caller's namespace on the calling thread. Sockets opened by the action stay in that namespace.</summary>
    public static T RunInside<T>(string? name, Func<T> action)
    {
        if (name is null) return action();
        using var target = Open(name);
        return RunOnOwnThread($"netns {name}", () =>
        {
            if (SetNs(target.Fd, CLONE_NEWNET) < 0) throw PlatformException.FromLastError("setns(CLONE_NEWNET)", name);
            return action();
        });
    }

    /// <summary>Runs <paramref name="action"/> on a fresh thread that may change its network namespace; the
    /// thread's original namespace is restored afterwards, and the thread then ends.</summary>
    private static T RunOnOwnThread<T>(string threadName, Func<T> action)
    {
        T result = default!;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            int original = LibC.Open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC, 0);
            try
            {
                if (original < 0) throw PlatformException.FromLastError("open /proc/thread-self/ns/net");
                try { result = action(); }
                finally
                {
                    // The thread ends right after, so a failed restore cannot leak into other work.
                    SetNs(original, CLONE_NEWNET);
                }
            }
            catch (Exception e) { failure = ExceptionDispatchInfo.Capture(e); }
            finally { if (original >= 0) LibC.Close(original); }
        }) { IsBackground = true, Name = threadName };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result;
    }

    /// <summary>iproute2's dance so namespace mounts propagate between mount namespaces: make the run
    /// directory MS_SHARED, and if it is not a mount point yet (EINVAL) bind it onto itself first. Serialized
    /// with flock on the directory, as iproute2 does, so parallel `ip netns add` cannot stack mounts.</summary>
    private static void MakeRunDirectoryShared()
    {
        int lockFd = LibC.Open(RunDirectory, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
        if (lockFd < 0) throw PlatformException.FromLastError("open", RunDirectory); // nothing to lock: unlocked, as below
        while (Flock(lockFd, LOCK_EX) < 0)
        {
            int errno = LastErrno;
            if (errno == Errno.EINTR) continue;
            LibC.Close(lockFd);
            throw new PlatformException("flock", RunDirectory, errno); // unlocked, a parallel `ip netns add` could stack mounts
        }
        try
        {
            bool madeMountPoint = false;
            while (LibC.Mount("", RunDirectory, "none", MS_SHARED | MS_REC) < 0)
            {
                if (LastErrno != Errno.EINVAL || madeMountPoint)
                    throw PlatformException.FromLastError("mount --make-rshared", RunDirectory);
                if (LibC.Mount(RunDirectory, RunDirectory, "none", MS_BIND | MS_REC) < 0)
                    throw PlatformException.FromLastError("mount --rbind", RunDirectory);
                madeMountPoint = true;
            }
        }
        finally
        {
            Flock(lockFd, LOCK_UN);
            LibC.Close(lockFd);
        }
    }

    private static int LastErrno => System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
}
