using System.Runtime.InteropServices;

namespace Appliance.Interop;

/// <summary>RLIMIT_MEMLOCK, which a UMEM registration is charged against unless the process has CAP_IPC_LOCK.</summary>
public static unsafe partial class XskResourceLimits
{
    private const int RlimitMemlock = 8;
    private const ulong Infinity = ulong.MaxValue;

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Max;
    }

    /// <summary>Raises the memlock limit to unlimited (or at least to its hard maximum). Returns the limit now
    /// in force in bytes (ulong.MaxValue = unlimited). Never throws: registration reports ENOBUFS itself.</summary>
    public static ulong RaiseMemlock()
    {
        var unlimited = new RLimit { Current = Infinity, Max = Infinity };
        if (SetRLimit(RlimitMemlock, &unlimited) == 0) return Infinity;
        RLimit now;
        if (GetRLimit(RlimitMemlock, &now) != 0) return 0;
        if (now.Current < now.Max)
        {
            var raised = new RLimit { Current = now.Max, Max = now.Max };
            if (SetRLimit(RlimitMemlock, &raised) == 0) return now.Max;
        }
        return now.Current;
    }

    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static partial int SetRLimit(int resource, RLimit* limit);

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetRLimit(int resource, RLimit* limit);
}
