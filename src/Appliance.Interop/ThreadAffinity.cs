namespace Appliance.Interop;

/// <summary>sched_setaffinity (Tmds.LibC) for the calling thread: pins a forwarding worker (or a kernel comparison) to one CPU.</summary>
public static unsafe class ThreadAffinity
{
    /// <summary>Pins the calling OS thread to <paramref name="cpu"/>; throws with the CPU and the reason.</summary>
    public static void PinCurrentThread(int cpu)
    {
        if (cpu < 0 || cpu >= Tmds.Linux.LibC.CPU_SETSIZE)
            throw new ArgumentOutOfRangeException(nameof(cpu), cpu, $"CPU number must be 0..{Tmds.Linux.LibC.CPU_SETSIZE - 1}");
        Tmds.Linux.cpu_set_t set; // 1024 bits
        Tmds.Linux.LibC.CPU_ZERO(&set);
        Tmds.Linux.LibC.CPU_SET(cpu, &set);
        if (Tmds.Linux.LibC.sched_setaffinity(0, (Tmds.Linux.size_t)(ulong)sizeof(Tmds.Linux.cpu_set_t), &set) != 0)
            throw PlatformException.FromLastError("sched_setaffinity", $"CPU {cpu}",
                "The CPU does not exist or is not allowed for this process (see taskset -p, cgroup cpusets)");
    }
}
