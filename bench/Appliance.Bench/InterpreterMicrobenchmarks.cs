using Appliance.Bpf.Assembly;
using Appliance.Bpf.Context;
using Appliance.Bpf.Helpers;
using Appliance.Bpf.Maps;
using Appliance.Bpf.Objects;
using Appliance.Bpf.Oracle;
using Appliance.Bpf.Vm;

namespace Appliance.Bench;

/// <summary>The interpreter on its own: ns per instruction on a loop of ALU, stack and branch instructions,
/// and ns per run of a 14-instruction tc classifier (the per-run overhead: context shadow, region setup).
/// Each checks its result, and that the timed runs allocate nothing. Times are the process's CPU time.</summary>
public static class InterpreterMicrobenchmarks
{
    /// <summary>6 instructions per iteration, 100,000 iterations: r0 = 0 + 1 + … + 99,999.</summary>
    private const string Loop = """
        mov %r0, 0
        mov %r2, 0
        stdw [%r10-8], 0
        loop:
        add %r0, %r2
        ldxdw %r3, [%r10-8]
        add %r3, 1
        stxdw [%r10-8], %r3
        add %r2, 1
        jlt %r2, 100000, loop
        exit
        """;

    /// <summary>IPv4/UDP frames get mark + 1 and TC_ACT_SHOT; anything else passes.</summary>
    private const string UdpClassifier = """
        ldxw %r2, [%r1+76]
        ldxw %r3, [%r1+80]
        mov %r4, %r2
        add %r4, 34
        jgt %r4, %r3, pass
        ldxh %r5, [%r2+12]
        jne %r5, 0x8, pass
        ldxb %r5, [%r2+23]
        jne %r5, 17, pass
        ldxw %r5, [%r1+8]
        add %r5, 1
        stxw [%r1+8], %r5
        mov %r0, 2
        exit
        pass:
        mov %r0, 0
        exit
        """;

    /// <summary>Prints both results; returns the number of failed checks.</summary>
    public static int Run(BenchOptions options)
    {
        int failures = 0;
        using var vm = new BpfVm();
        var frame = PacketBuilder.Ipv4(PacketBuilder.Udp, [10, 0, 0, 1], [10, 0, 0, 2], 12345, 53, 64 - 42);
        var buffer = GC.AllocateArray<byte>(EngineObject.Headroom + frame.Length + EngineObject.Tailroom, pinned: true);
        frame.CopyTo(buffer, EngineObject.Headroom);
        var packet = PacketContext.FromArray(buffer, EngineObject.Headroom, frame.Length);
        packet.Protocol = PacketBuilder.EthIp;

        var loop = Load("loop", Loop);
        var first = vm.Run(loop, ref packet);
        failures += Check(first.R0 == 4_999_950_000UL, $"loop computed {first.R0}, expected 4999950000");
        var perInstruction = new double[BenchOptions.Repetitions];
        long loopRuns = Math.Max(1, (long)(options.SecondsPerMeasurement * 1e9 / (first.InstructionsExecuted * 2.0)));
        Measurement.WarmUp(() => vm.Run(loop, ref packet));
        for (int rep = 0; rep < perInstruction.Length; rep++)
        {
            long instructions = 0;
            var cpuBefore = Environment.CpuUsage.TotalTime;
            for (long i = 0; i < loopRuns; i++) instructions += vm.Run(loop, ref packet).InstructionsExecuted;
            perInstruction[rep] = (Environment.CpuUsage.TotalTime - cpuBefore).TotalNanoseconds / instructions;
            failures += Check(instructions == loopRuns * first.InstructionsExecuted, $"loop ran {instructions} instructions, expected {loopRuns * first.InstructionsExecuted}");
        }
        Console.WriteLine($"interpreter loop (ALU, stack load/store, branch): {Measurement.Median(perInstruction):F2} ns/instruction (CPU time) " +
            $"({first.InstructionsExecuted} instructions per run, {loopRuns} runs per repetition)");

        var classifier = Load("udp_classifier", UdpClassifier);
        double warmNs = Measurement.WarmUp(() =>
        {
            var cpuBefore = Environment.CpuUsage.TotalTime;
            for (int i = 0; i < (int)Measurement.MinRuns; i++) vm.Run(classifier, ref packet);
            return (Environment.CpuUsage.TotalTime - cpuBefore).TotalNanoseconds / Measurement.MinRuns;
        });
        long runs = Measurement.RunsFor(options.SecondsPerMeasurement, warmNs);
        var perRun = new double[BenchOptions.Repetitions];
        BpfRunResult last = default;
        long maxAllocated = 0;
        for (int rep = 0; rep < perRun.Length; rep++)
        {
            uint markBefore = packet.Mark;
            long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            var cpuBefore = Environment.CpuUsage.TotalTime;
            for (long i = 0; i < runs; i++) last = vm.Run(classifier, ref packet);
            perRun[rep] = (Environment.CpuUsage.TotalTime - cpuBefore).TotalNanoseconds / runs;
            long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
            maxAllocated = Math.Max(maxAllocated, allocated);
            failures += Check(last.Verdict == TcAction.Shot, $"classifier returned {last.Verdict}, expected TC_ACT_SHOT (2)");
            failures += Check(packet.Mark == unchecked(markBefore + (uint)runs), $"classifier left mark {packet.Mark}, expected {unchecked(markBefore + (uint)runs)}");
            failures += Check(allocated == 0, $"classifier runs allocated {allocated} bytes over {runs} runs: a run must not allocate");
        }
        Console.WriteLine($"14-instruction UDP classifier (IPv4/UDP 64 B, mark + 1): {Measurement.Median(perRun):F1} ns/run (CPU time) " +
            $"({last.InstructionsExecuted} instructions, {runs} runs per repetition, {maxAllocated} bytes allocated)");
        return failures;
    }

    private static LoadedProgram Load(string name, string assembly) =>
        LoadedProgram.Load(new BpfProgramImage(name, "tc", BpfAssembler.Assemble(assembly)), Array.Empty<BpfMap>(), LinuxHelperTable.Instance);

    private static int Check(bool ok, string failure)
    {
        if (!ok) Console.Error.WriteLine("error: " + failure);
        return ok ? 0 : 1;
    }
}
