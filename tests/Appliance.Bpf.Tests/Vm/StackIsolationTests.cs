using Appliance.Bpf.Helpers;
using Appliance.Bpf.Objects;
using Appliance.Bpf.Assembly;
using Appliance.Bpf.Verifier;
using Appliance.Bpf.Vm;
using Xunit;

namespace Appliance.Bpf.Tests.Vm;

/// <summary>No run observes another run's stack: the VM clears the depth each program can reach before it runs,
/// and its stack region ends there, so even a forged stack address finds nothing left behind.</summary>
public sealed class StackIsolationTests
{
    private const ulong Secret = 0x5EC2E7_C0FFEE_42;

    // Program A (pair 1): writes a secret all over its frame's first 64 bytes, returns.
    private const string Writer = """
        lddw %r1, 0x5EC2E7C0FFEE42
        stxdw [%r10-8], %r1
        stxdw [%r10-16], %r1
        stxdw [%r10-24], %r1
        stxdw [%r10-32], %r1
        stxdw [%r10-40], %r1
        stxdw [%r10-48], %r1
        stxdw [%r10-56], %r1
        stxdw [%r10-64], %r1
        mov %r0, 0
        exit
        """;

    private static LoadedProgram Assemble(string source) =>
        LoadedProgram.Load(new BpfProgramImage("t", "tc", BpfAssembler.Assemble(source)), [], LinuxHelperTable.Instance);

    private static BpfRunResult RunOn(BpfVm vm, LoadedProgram program)
    {
        var packet = VmTestSupport.Packet(new byte[64]);
        return vm.Run(program, ref packet);
    }

    [Fact]
    public void AProgramReadingItsUninitialisedStackDoesNotSeeWhatAnotherLeft()
    {
        using var vm = new BpfVm();
        var writer = Assemble(Writer);
        // Program B (pair 2): reads r10-8 and r10-64 without writing them.
        var reader = Assemble("ldxdw %r0, [%r10-8]\nldxdw %r2, [%r10-64]\nor %r0, %r2\nexit");
        Assert.Equal(BpfFault.None, RunOn(vm, writer).Fault);
        var read = RunOn(vm, reader);
        Assert.Equal(BpfFault.None, read.Fault);
        Assert.Equal(0UL, read.R0);

        // The same through a copied and moved pointer.
        var viaCopy = Assemble("mov %r3, %r10\nadd %r3, -32\nldxdw %r0, [%r3+0]\nexit");
        Assert.Equal(BpfFault.None, RunOn(vm, writer).Fault);
        Assert.Equal(0UL, RunOn(vm, viaCopy).R0);
    }

    /// <summary>A chain's common case: the same program run after run on one VM, its packets in one buffer (a
    /// port's UMEM). A long packet's run leaves the secret in its frame; the next run, on a short packet, reads
    /// that slot without writing it and must read zero, in the interpreter and in compiled code.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TheSameProgramsNextRunDoesNotSeeWhatItsLastLeft(bool jit)
    {
        var program = Assemble("""
            ldxw %r2, [%r1+0]
            jgt %r2, 100, write
            ldxdw %r0, [%r10-8]
            exit
            write:
            lddw %r3, 0x5EC2E7C0FFEE42
            stxdw [%r10-8], %r3
            ldxdw %r0, [%r10-8]
            exit
            """);
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        var buffer = new byte[2048];
        foreach (int length in new[] { 200, 200, 60, 200, 60, 60 })
        {
            var packet = Appliance.Bpf.Context.PacketContext.FromArray(buffer, 256, length);
            var r = vm.Run(program, ref packet);
            Assert.Equal(BpfFault.None, r.Fault);
            Assert.Equal(length > 100 ? Secret : 0UL, r.R0);
        }
    }

    [Fact]
    public void ControlWithoutClearingWouldLeak()
    {
        // The writer reading its own stack in the same run sees the secret: the reads above can see it if it is there.
        var self = Assemble(Writer.Replace("mov %r0, 0", "ldxdw %r0, [%r10-64]"));
        using var vm = new BpfVm();
        Assert.Equal(Secret, RunOn(vm, self).R0);
    }

    [Fact]
    public void AForgedStackAddressBelowTheMeasuredDepthFaults()
    {
        using var vm = new BpfVm();
        Assert.Equal(BpfFault.None, RunOn(vm, Assemble(Writer)).Fault);
        // Uses 8 bytes of its frame, then forges the address of r10-64 from a constant.
        ulong forged = VirtualAddress.RegionBase(VirtualAddress.StackRegion) + BpfVm.StackSize - 64;
        var forger = Assemble($"stdw [%r10-8], 0\nlddw %r2, 0x{forged:x}\nldxdw %r0, [%r2+0]\nexit");
        Assert.Equal(8, forger.Stack.FrameBytes);
        Assert.Equal(BpfFault.OutOfBounds, RunOn(vm, forger).Fault);
        // A program whose frame reaches -64 may read there, and reads zero.
        var deep = Assemble($"stdw [%r10-64], 0\nlddw %r2, 0x{forged + 8:x}\nldxdw %r0, [%r2+0]\nexit");
        Assert.Equal(0UL, RunOn(vm, deep).R0);
    }

    [Fact]
    public void CalleeFramesAreClearedToo()
    {
        using var vm = new BpfVm();
        // A calls f, which fills its own frame (frame 1) with the secret.
        var a = Assemble("call local f\nmov %r0, 0\nexit\nf:\nlddw %r1, 0x5EC2E7C0FFEE42\nstxdw [%r10-8], %r1\nmov %r0, 0\nexit");
        var b = Assemble("call local g\nexit\ng:\nldxdw %r0, [%r10-8]\nexit");
        Assert.Equal(1, a.Stack.CallDepth);
        Assert.Equal(BpfFault.None, RunOn(vm, a).Fault);
        var read = RunOn(vm, b);
        Assert.Equal(BpfFault.None, read.Fault);
        Assert.Equal(0UL, read.R0);
    }

    [Theory]
    [InlineData("mov %r0, 0\nexit", 0, 0)]
    [InlineData("stw [%r10-4], 1\nmov %r0, 0\nexit", 8, 0)]
    [InlineData("stdw [%r10-24], 1\nldxw %r0, [%r10-12]\nexit", 24, 0)]
    // Pointer copies and constant moves are followed, including a helper argument (map key at r10-40).
    [InlineData("mov %r2, %r10\nadd %r2, -40\nlddw %r1, map[0]\ncall 1\nmov %r0, 0\nexit", 40, 0)]
    [InlineData("mov %r2, %r10\nsub %r2, 100\nstb [%r2+0], 1\nmov %r0, 0\nexit", 104, 0)]
    // Branches: the lowest offset on any path.
    [InlineData("mov %r2, %r10\njeq %r1, 0, +1\nadd %r2, -200\nstb [%r2-1], 1\nmov %r0, 0\nexit", 208, 0)]
    // What the analysis does not follow makes the frame full: a stored stack pointer, register arithmetic,
    // a stack pointer passed to a bpf-to-bpf call, a pointer walked down in a loop.
    [InlineData("mov %r2, %r10\nstxdw [%r10-8], %r2\nmov %r0, 0\nexit", 512, 0)]
    [InlineData("mov %r2, %r10\nmov %r3, 16\nsub %r2, %r3\nstb [%r2+0], 1\nmov %r0, 0\nexit", 512, 0)]
    [InlineData("mov %r1, %r10\nadd %r1, -8\ncall local f\nexit\nf:\nmov %r0, 0\nexit", 512, 1)]
    [InlineData("mov %r2, %r10\nmov %r3, 0\nloop:\nadd %r2, -8\nstdw [%r2+0], 0\nadd %r3, 1\njlt %r3, 8, loop\nmov %r0, 0\nexit", 512, 0)]
    // Call chains: the deepest chain counts, up to the 8 frames the verifier allows (recursion is refused).
    [InlineData("call local f\ncall local g\nexit\nf:\ncall local g\nexit\ng:\nmov %r0, 0\nexit", 0, 2)]
    [InlineData("call local f1\nexit\nf1:\ncall local f2\nexit\nf2:\ncall local f3\nexit\nf3:\ncall local f4\nexit\nf4:\ncall local f5\nexit\nf5:\ncall local f6\nexit\nf6:\ncall local f7\nexit\nf7:\nmov %r0, 0\nexit", 0, BpfVerifier.MaxCallDepth)]
    public void StackUsageIsMeasuredConservatively(string source, int frameBytes, int callDepth)
    {
        var program = LoadedProgram.Load(new BpfProgramImage("t", "tc", BpfAssembler.Assemble(source)), [TestArrayMap.Create(8)], LinuxHelperTable.Instance);
        Assert.Equal(new StackUsage(frameBytes, callDepth), program.Stack);
    }
}
