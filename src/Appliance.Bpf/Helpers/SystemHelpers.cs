using System.Diagnostics;
using Appliance.Bpf.Vm;

namespace Appliance.Bpf.Helpers;

/// <summary>bpf_ktime_get_ns (5, CLOCK_MONOTONIC in ns), bpf_get_prandom_u32 (7), bpf_get_smp_processor_id (8).</summary>
internal static class SystemHelpers
{
    private static readonly double NanosecondsPerTick = 1_000_000_000.0 / Stopwatch.Frequency;

    public static HelperOutcome KtimeGetNs(BpfVm vm) =>
        LinuxHelperTable.Return(vm, Stopwatch.Frequency == 1_000_000_000
            ? (ulong)Stopwatch.GetTimestamp()
            : (ulong)(Stopwatch.GetTimestamp() * NanosecondsPerTick));

    public static HelperOutcome GetPrandomU32(BpfVm vm) => LinuxHelperTable.Return(vm, vm.NextRandom());

    public static HelperOutcome GetSmpProcessorId(BpfVm vm) => LinuxHelperTable.Return(vm, vm.Options.ProcessorId);
}
