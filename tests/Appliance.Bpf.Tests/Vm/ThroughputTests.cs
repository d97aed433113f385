using System.Diagnostics;
using Appliance.Bpf.Vm;
using Xunit;
using Xunit.Abstractions;

namespace Appliance.Bpf.Tests.Vm;

/// <summary>Reports the interpreter's speed (ns per instruction, ns per run of a small tc-style program).
/// It asserts only the results, never the time: timing belongs to benchmarks.</summary>
public sealed class ThroughputTests(ITestOutputHelper output)
{
    [Fact]
    public void ReportsNanosecondsPerInstruction()
    {
        // A loop of ALU, memory and branch instructions: 6 instructions per iteration.
        var program = VmTestSupport.Load("""
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
            """);
        var packet = VmTestSupport.Packet(new byte[64]);
        using var vm = new BpfVm();
        var warm = vm.Run(program, ref packet);
        Assert.Equal(4999950000UL, warm.R0);
        var watch = Stopwatch.StartNew();
        long instructions = 0;
        for (int i = 0; i < 20; i++) instructions += vm.Run(program, ref packet).InstructionsExecuted;
        watch.Stop();
        output.WriteLine($"interpreter: {watch.Elapsed.TotalNanoseconds / instructions:F2} ns/instruction over {instructions} instructions");
        Assert.Equal(20L * warm.InstructionsExecuted, instructions);
    }

    [Fact]
    public void ReportsNanosecondsPerShortRun()
    {
        var program = VmTestSupport.Load("""
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
            """);
        var packet = VmTestSupport.Packet(VmTestSupport.Ipv4UdpFrame());
        using var vm = new BpfVm();
        for (int i = 0; i < 1000; i++) vm.Run(program, ref packet);
        const int runs = 200_000;
        long before = GC.GetAllocatedBytesForCurrentThread();
        var watch = Stopwatch.StartNew();
        BpfRunResult last = default;
        for (int i = 0; i < runs; i++) last = vm.Run(program, ref packet);
        watch.Stop();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        output.WriteLine($"14-instruction UDP classifier: {watch.Elapsed.TotalNanoseconds / runs:F1} ns/run, {allocated} bytes allocated over {runs} runs");
        Assert.Equal(2, last.Verdict);
        Assert.Equal(1000u + runs, packet.Mark);
        Assert.True(allocated < 1024, $"{allocated} bytes allocated over {runs} runs: a run must not allocate"); // tier-up may allocate once
    }
}
