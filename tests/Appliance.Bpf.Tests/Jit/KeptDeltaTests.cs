using Appliance.Bpf.Jit;
using Appliance.Bpf.Tests.Vm;
using Appliance.Bpf.Vm;
using Xunit;

namespace Appliance.Bpf.Tests.Jit;

/// <summary>The x86-64 emitter loads a region's delta (stack or packet) once for a run of accesses: it stays in rax while
/// nothing between writes rax and no jump lands between (X64Emitter's DeltaHere). Each case gives both engines the same
/// frames; the compiled code must read what the interpreter reads.</summary>
public sealed class KeptDeltaTests
{
    /// <summary>A jump lands on a packet access from a path where rax holds the stack's delta, while the path falling
    /// into it holds the packet's: the access must load the packet's delta again (a reuse there reads the stack's delta
    /// plus a packet address: another byte, or a crash).</summary>
    [Fact]
    public void APacketAccessAJumpLandsOnLoadsThePacketDeltaAgain()
    {
        const string program = HostileRangeCases.Checked14 + """
            ldxb %r6, [%r2+0]
            mov %r5, %r10
            add %r5, -8
            stdw [%r5+0], 7
            jeq %r6, 0xaa, next
            ldxb %r7, [%r2+2]
            next:
            ldxb %r0, [%r2+1]
            ldxdw %r1, [%r5+0]
            add %r0, %r1
            exit
            out:
            mov %r0, 0
            exit
            """;
        foreach (byte first in new byte[] { 0xaa, 0x00 })
            AssertSameOnBothEngines(program, frame => { frame[0] = first; frame[1] = 0x42; }, 0x42 + 7);
    }

    /// <summary>A packet load into an eBPF register the emitter keeps in the state goes through rax: the next packet
    /// access must load the delta again (every register but r9 is named often here, so r9 stays in the state).</summary>
    [Fact]
    public void APacketLoadIntoARegisterInTheStateDoesNotKeepTheDelta()
    {
        string busy = string.Concat(Enumerable.Range(0, 3).Select(_ =>
            "mov %r4, 0\nmov %r5, 0\nmov %r6, 0\nmov %r7, 0\nmov %r8, 0\nmov %r0, 0\nmov %r1, 0\n"));
        string program = HostileRangeCases.Checked14 + busy + """
            ldxb %r9, [%r2+3]
            ldxb %r0, [%r2+4]
            add %r0, %r9
            exit
            out:
            mov %r0, 0
            exit
            """;
        AssertSameOnBothEngines(program, frame => { frame[3] = 0x10; frame[4] = 0x20; }, 0x30);
    }

    /// <summary>Instruction labels no jump names are bound as fall-through (what the emitter knows there holds); the
    /// finished code refuses a jump to one, so a lowering that named one could not use a stale delta.</summary>
    [Fact]
    public void AJumpToAFallThroughLabelIsRefused()
    {
        var emitter = BpfJit.CreateEmitter(System.Runtime.InteropServices.Architecture.X64);
        int label = emitter.NewLabel();
        emitter.Jump(label);
        emitter.BindFallThrough(label);
        Assert.Throws<InvalidOperationException>(() => emitter.Finish());
    }

    private static void AssertSameOnBothEngines(string assembly, Action<byte[]> fill, ulong expected)
    {
        var program = VmTestSupport.Load(assembly);
        Assert.True(program.IsJitCompiled, program.JitUnavailableReason);
        foreach (bool jit in new[] { false, true })
        {
            var frame = new byte[64];
            fill(frame);
            var packet = VmTestSupport.Packet(frame);
            using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
            var r = vm.Run(program, ref packet);
            Assert.Equal((BpfFault.None, expected), (r.Fault, r.R0));
        }
    }
}
