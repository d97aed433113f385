using System.Diagnostics;
using Appliance.Bpf.Vm;

namespace Appliance.Bpf.Helpers;

/// <summary>bpf_ktime_get_ns (5, CLOCK_MONOTONIC in ns), bpf_get_prandom_u32 (7), bpf_get_smp_processor_id (8); bpf_jiffies64 (118, HZ 250); ktime_get_boot_ns (125) and
/// ktime_get_coarse_ns (160) read the same monotonic clock (the appliance never suspends); bpf_ktime_get_tai_ns (208)
/// reads CLOCK_TAI (libc's clock_gettime, answered by the vDSO without a syscall where the clocksource allows it, else by a short syscall).</summary>
internal static partial class SystemHelpers
{
    private const int ClockTai = 11; // CLOCK_TAI

    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "clock_gettime")]
    [System.Runtime.InteropServices.SuppressGCTransition] // the vDSO answers in nanoseconds, never blocks
    private static partial int ClockGetTime(int clock, out Timespec time);

    public static HelperOutcome KtimeGetTaiNs(BpfVm vm) =>
        LinuxHelperTable.Return(vm, ClockGetTime(ClockTai, out var t) == 0 ? (ulong)(t.Seconds * 1_000_000_000 + t.Nanoseconds) : 0);

    private static readonly double NanosecondsPerTick = 1_000_000_000.0 / Stopwatch.Frequency;

    public static HelperOutcome KtimeGetNs(BpfVm vm) =>
        LinuxHelperTable.Return(vm, Stopwatch.Frequency == 1_000_000_000
            ? (ulong)Stopwatch.GetTimestamp()
            : (ulong)(Stopwatch.GetTimestamp() * NanosecondsPerTick));

    /// <summary>Debian kernels use HZ = 250: jiffies advance every 4 ms of monotonic time.</summary>
    public const int Hz = 250;

    public static HelperOutcome Jiffies64(BpfVm vm)
    {
        KtimeGetNs(vm);
        return LinuxHelperTable.Return(vm, vm.ReturnValue / (1_000_000_000UL / Hz));
    }

    public static HelperOutcome GetPrandomU32(BpfVm vm) => LinuxHelperTable.Return(vm, vm.NextRandom());

    public static HelperOutcome GetSmpProcessorId(BpfVm vm) => LinuxHelperTable.Return(vm, vm.Options.ProcessorId);

    /// <summary>bpf_get_numa_node_id: 0. The appliance's boards have one memory node, and its per-CPU slots are its
    /// workers, not the machine's CPUs, so a node derived from them would mean nothing; a program sharding by node
    /// gets one shard, as on any single-node machine.</summary>
    public static HelperOutcome GetNumaNodeId(BpfVm vm) => LinuxHelperTable.Return(vm, 0);
}
