using System.Runtime.InteropServices;

namespace Appliance.Interop;

/// <summary>sched_setaffinity for the calling thread: pins the forwarding worker to one CPU.</summary>
public static unsafe partial class XskThreadAffinity
{
    /// <summary>Pins the calling OS thread to <paramref name="cpu"/>; throws with the CPU and the reason.</summary>
    public static void PinCurrentThread(int cpu)
    {
        if (cpu < 0 || cpu >= 1024) throw new ArgumentOutOfRangeException(nameof(cpu), cpu, "CPU number must be 0..1023");
        ulong* mask = stackalloc ulong[16]; // cpu_set_t: 1024 bits
        new Span<ulong>(mask, 16).Clear();
        mask[cpu / 64] = 1UL << (cpu % 64);
        if (SchedSetAffinity(0, 16 * sizeof(ulong), mask) != 0)
            throw PlatformException.FromLastError("sched_setaffinity", $"CPU {cpu}",
                "The CPU does not exist or is not allowed for this process (see taskset -p, cgroup cpusets)");
    }

    [LibraryImport("libc", EntryPoint = "sched_setaffinity", SetLastError = true)]
    private static partial int SchedSetAffinity(int pid, nuint size, ulong* mask);
}
