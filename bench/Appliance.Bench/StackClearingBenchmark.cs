using Appliance.Bpf.Assembly;
using Appliance.Bpf.Context;
using Appliance.Bpf.Helpers;
using Appliance.Bpf.Maps;
using Appliance.Bpf.Objects;
using Appliance.Bpf.Oracle;
using Appliance.Bpf.Vm;

namespace Appliance.Bench;

/// <summary>The per-run cost of clearing the stack a program can reach (no run sees another's leftovers):
/// the same two-instruction program plus one store at r10-8, r10-64 or r10-512, so the VM clears 8, 64 or
/// 512 bytes before each run; the difference to a program that touches no stack is the clearing (plus one
/// store). CPU time of the process, median of <see cref="BenchOptions.Repetitions"/>.</summary>
public static class StackClearingBenchmark
{
    private static readonly int[] Depths = [0, 8, 64, 512];

    public static int Run(BenchOptions options)
    {
        using var vm = new BpfVm();
        var buffer = GC.AllocateArray<byte>(EngineObject.Headroom + 64 + EngineObject.Tailroom, pinned: true);
        var packet = PacketContext.FromArray(buffer, EngineObject.Headroom, 64);
        int failures = 0;
        double baseline = 0;
        var parts = new List<string>();
        foreach (int depth in Depths)
        {
            string store = depth == 0 ? "" : $"stb [%r10-{depth}], 0\n";
            var program = LoadedProgram.Load(new BpfProgramImage($"stack{depth}", "tc", BpfAssembler.Assemble(store + "mov %r0, 0\nexit")),
                Array.Empty<BpfMap>(), LinuxHelperTable.Instance);
            if (program.Stack.FrameBytes != depth)
            {
                Console.Error.WriteLine($"error: a store at r10-{depth} measured {program.Stack.FrameBytes} stack bytes");
                failures++;
            }
            double warmNs = Measurement.WarmUp(() => NsPerRun(vm, program, ref packet, Measurement.MinRuns));
            long runs = Measurement.RunsFor(options.SecondsPerMeasurement, warmNs);
            var reps = new double[BenchOptions.Repetitions];
            for (int rep = 0; rep < reps.Length; rep++) reps[rep] = NsPerRun(vm, program, ref packet, runs);
            double ns = Measurement.Median(reps);
            if (depth == 0) baseline = ns;
            parts.Add(depth == 0 ? $"no stack {ns:F1} ns/run" : $"{depth} B cleared {ns:F1} ns/run (+{ns - baseline:F1})");
        }
        Console.WriteLine("stack clearing before each run (CPU time): " + string.Join(", ", parts));
        return failures;
    }

    private static double NsPerRun(BpfVm vm, LoadedProgram program, ref PacketContext packet, long runs)
    {
        var cpuBefore = Environment.CpuUsage.TotalTime;
        for (long i = 0; i < runs; i++) vm.Run(program, ref packet);
        return (Environment.CpuUsage.TotalTime - cpuBefore).TotalNanoseconds / runs;
    }
}
