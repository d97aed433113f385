using System.Runtime.InteropServices;

namespace Appliance.Interop;

/// <summary>The platform calls of the appliance's init (PID 1) duties: finit_module, child reaping (waitid/waitpid,
/// never reboot), prctl; mount and open are <see cref="LibC"/>'s. Raw: each returns -1 and leaves errno on failure; the Init layer
/// turns that into <see cref="PlatformException"/>.</summary>
public static unsafe partial class InitSyscalls
{
    private const string Lib = "libc";

    // finit_module(2) flags: the kernel decompresses .ko.xz/.ko.zst itself when CONFIG_MODULE_DECOMPRESS=y.
    public const int MODULE_INIT_COMPRESSED_FILE = 4;

    // waitid(2)/waitpid(2), not in Tmds.LibC 0.5.0 (its siginfo_t is used).
    public const int P_ALL = 0, WNOHANG = 1, WEXITED = 4, WNOWAIT = 0x01000000;

    // prctl(2).
    public const int PR_SET_CHILD_SUBREAPER = 36;

    // waitid, waitpid and prctl: not in Tmds.LibC 0.5.0.

    [LibraryImport(Lib, EntryPoint = "waitid", SetLastError = true)]
    public static partial int WaitId(int idType, int id, Tmds.Linux.siginfo_t* info, int options);

    [LibraryImport(Lib, EntryPoint = "waitpid", SetLastError = true)]
    public static partial int WaitPid(int pid, int* status, int options);

    [LibraryImport(Lib, EntryPoint = "prctl", SetLastError = true)]
    public static partial int Prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    private static int ExecVe(nint path, nint* argv, nint* envp) => Tmds.Linux.LibC.execve((byte*)path, (byte**)argv, (byte**)envp);

    /// <summary>execve(2) with UTF-8 copies of the arguments and environment. Returns only on failure (-1, errno set).</summary>
    public static int Exec(string path, IReadOnlyList<string> argv, IReadOnlyList<string> environment)
    {
        var strings = new List<nint>();
        nint Utf8(string s)
        {
            var p = Marshal.StringToCoTaskMemUTF8(s);
            strings.Add(p);
            return p;
        }
        var args = (nint*)NativeMemory.AllocZeroed((nuint)(argv.Count + 1), (nuint)sizeof(nint));
        var env = (nint*)NativeMemory.AllocZeroed((nuint)(environment.Count + 1), (nuint)sizeof(nint));
        try
        {
            for (var i = 0; i < argv.Count; i++) args[i] = Utf8(argv[i]);
            for (var i = 0; i < environment.Count; i++) env[i] = Utf8(environment[i]);
            return ExecVe(Utf8(path), args, env);
        }
        finally
        {
            foreach (var p in strings) Marshal.FreeCoTaskMem(p);
            NativeMemory.Free(args);
            NativeMemory.Free(env);
        }
    }

    /// <summary>finit_module(fd, params, flags) through syscall(2): glibc 2.36 has no wrapper.</summary>
    public static int FinitModule(int fd, string parameters, int flags)
    {
        var number = LibC.IsArm64 ? 273 : 313;
        fixed (byte* p = Utf8Z.Of(parameters))
            return (int)LibC.Syscall(number, fd, (long)p, flags);
    }
}
