namespace Appliance.Bpf.Maps;

/// <summary>Which "CPU" the calling thread is, for per-CPU maps. The appliance runs one datapath worker
/// per CPU slot: a worker sets <see cref="Current"/> once when it starts (0 … cpuCount − 1), and every
/// per-CPU map lookup/update its programs make uses that slot. Threads that never set it (the CLI, tests)
/// are CPU 0. get_smp_processor_id can return the same number.</summary>
public static class BpfCpu
{
    [ThreadStatic] private static int _current;

    public static int Current
    {
        get => _current;
        set => _current = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "a CPU slot is 0 or more");
    }
}
