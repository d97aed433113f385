using Appliance.Bpf.Assembly;
using Appliance.Bpf.Helpers;
using Appliance.Bpf.Isa;
using Appliance.Bpf.Objects;
using Appliance.Bpf.Verifier;
using Xunit;

namespace Appliance.Bpf.Tests.Verifier;

/// <summary>Programs the verifier must reject at load — each message names the section, the instruction
/// index and its disassembly — and programs it must accept.</summary>
public sealed class VerifierTests
{
    private static BpfVerifierException Reject(string assembly, int mapCount = 0) =>
        Reject(BpfAssembler.Assemble(assembly), mapCount);

    private static BpfVerifierException Reject(ulong[] code, int mapCount = 0) =>
        Assert.Throws<BpfVerifierException>(() =>
            BpfVerifier.Verify(new BpfProgramImage("p", "tc/ingress", code), mapCount, LinuxHelperTable.Instance));

    private static void Accept(string assembly, int mapCount = 0) =>
        BpfVerifier.Verify(new BpfProgramImage("p", "tc", BpfAssembler.Assemble(assembly)), mapCount, LinuxHelperTable.Instance);

    [Fact]
    public void UnknownHelperIsRejectedAtLoad()
    {
        var e = Reject("mov %r0, 0\ncall 9999\nexit");
        Assert.Equal(1, e.InstructionIndex);
        Assert.Equal("tc/ingress (program p): instruction 1 (call 9999): unknown helper 9999 (not in the helper table)", e.Message);
    }

    [Fact]
    public void ARefusedLinuxHelperIsNamedWithTheReason()
    {
        var timer = Reject("mov %r0, 0\ncall 169\nexit");
        Assert.Contains("helper bpf_timer_init (#169) is not supported: it arms a bpf_timer", timer.Message);
        Assert.Contains("bpf_xdp_adjust_head (#44) is not supported: it is for XDP programs", Reject("mov %r0, 0\ncall 44\nexit").Message);
        Assert.Contains("bpf_probe_read_kernel (#113) is not supported", Reject("mov %r0, 0\ncall 113\nexit").Message);
        Assert.Contains("bpf_skb_set_tstamp (#192) is not supported: it sets the timestamp's clock", Reject("mov %r0, 0\ncall 192\nexit").Message);
    }

    [Fact]
    public void WriteToFramePointerIsRejected()
    {
        var e = Reject("mov %r0, 0\nadd %r10, 8\nexit");
        Assert.Equal(1, e.InstructionIndex);
        Assert.Contains("add %r10, 8", e.Message, StringComparison.Ordinal);
        Assert.Contains("read-only", e.Message, StringComparison.Ordinal);
        Reject("ldxdw %r10, [%r1+0]\nmov %r0, 0\nexit");
        Reject("mov %r0, 0\nstxdw [%r10-8], %r0\nlock fetch add [%r10-8], %r10\nexit");
    }

    [Fact]
    public void JumpOutOfRangeIsRejected()
    {
        var e = Reject("mov %r0, 0\nja +5\nexit");
        Assert.Equal(1, e.InstructionIndex);
        Assert.Contains("outside the program", e.Message, StringComparison.Ordinal);
        Reject("mov %r0, 0\njeq %r0, 0, -3\nexit");
    }

    [Fact]
    public void JumpIntoTheMiddleOfLddwIsRejected()
    {
        var e = Reject("mov %r0, 0\nja +1\nlddw %r0, 0x100000000\nexit");
        Assert.Contains("second slot of an lddw", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FallingOffTheEndIsRejected()
    {
        var e = Reject("mov %r0, 0\nadd %r0, 1");
        Assert.Equal(1, e.InstructionIndex);
        Assert.Contains("fall off the end", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadOfUninitialisedRegisterIsRejected()
    {
        var e = Reject("mov %r0, %r3\nexit");
        Assert.Contains("r3 is read but no path to here writes it", e.Message, StringComparison.Ordinal);
        // r0 is never set on any path to the exit.
        Reject("jeq %r1, 0, +1\nmov %r2, 1\nexit");
        // r0 set on one path only is accepted (the kernel may know the other path is infeasible).
        Accept("jeq %r1, 0, +1\nmov %r0, 1\nexit");
        // r1..r5 are clobbered by a helper call.
        Reject("call 7\nmov %r0, %r1\nexit");
        // r6 is written on one branch only; the read after the join is accepted.
        Accept("mov %r0, 0\njeq %r1, 0, +2\nmov %r6, 1\nja +0\nmov %r0, %r6\nexit");
    }

    [Fact]
    public void FixedStackAccessOutsideTheFrameIsRejected()
    {
        Assert.Contains("outside the 512-byte frame", Reject("mov %r0, 0\nstxdw [%r10-520], %r0\nexit").Message, StringComparison.Ordinal);
        Reject("mov %r0, 0\nstxdw [%r10+0], %r0\nexit");
        Reject("ldxw %r0, [%r10-2]\nexit");
        Accept("mov %r0, 0\nstxdw [%r10-512], %r0\nldxdw %r0, [%r10-512]\nexit");
    }

    [Fact]
    public void EndlessLoopsAreRejected()
    {
        Assert.Contains("endless loop", Reject("mov %r0, 0\nja -1\nexit", 0).Message, StringComparison.Ordinal);
        // A two-instruction cycle with no way out.
        Reject("mov %r0, 0\nadd %r0, 1\nja -2\nexit");
        // A bounded loop with a conditional exit is fine (left to the budget).
        Accept("mov %r0, 0\nadd %r0, 1\njlt %r0, 10, -2\nexit");
    }

    [Fact]
    public void HugeProgramIsRejected()
    {
        var code = new ulong[1_000_001];
        ulong mov = new BpfInstruction(0xb7, 0, 0, 0, 0).Encode();
        Array.Fill(code, mov);
        code[^1] = new BpfInstruction(BpfOpcodes.Exit, 0, 0, 0, 0).Encode();
        var e = Reject(code);
        Assert.Equal(-1, e.InstructionIndex);
        Assert.Contains("more than the limit of 1000000", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BadEncodingsAreRejected()
    {
        Assert.Contains("uses reserved fields", Reject([new BpfInstruction(0x38, 0, 0, 0, 0).Encode(), new BpfInstruction(0x95, 0, 0, 0, 0).Encode()]).Message, StringComparison.Ordinal); // 8-byte LD_ABS
        Assert.Contains("uses reserved fields", Reject([new BpfInstruction(0x30, 1, 0, 0, 0).Encode(), new BpfInstruction(0x95, 0, 0, 0, 0).Encode()]).Message, StringComparison.Ordinal); // dst set
        Assert.Contains("r6 is read but no path to here writes it", Reject("ldabsb 12\nexit").Message, StringComparison.Ordinal);
        Assert.Contains("kfunc", Reject("call runtime 5\nmov %r0, 0\nexit").Message, StringComparison.Ordinal);
        Reject([new BpfInstruction(0xff, 0, 0, 0, 0).Encode()]);
        Reject([new BpfInstruction(0xb7, 11, 0, 0, 0).Encode(), new BpfInstruction(0x95, 0, 0, 0, 0).Encode()]);
        Reject("mov %r0, 0\nexit\nlddw %r0, 1", 0); // unreachable
    }

    [Fact]
    public void UnknownMapIndexIsRejected()
    {
        var e = Reject("lddw %r1, map[2]\nmov %r0, 0\nexit", mapCount: 2);
        Assert.Contains("map index 2 does not exist", e.Message, StringComparison.Ordinal);
        Accept("lddw %r1, map[1]\nmov %r0, 0\nexit", mapCount: 2);
    }

    [Fact]
    public void LocalCallsAreCheckedAndAccepted()
    {
        Accept("mov %r1, 1\ncall local f\nexit\nf:\nmov %r0, %r1\nexit");
        // A jump from the main function into the sub-program is rejected.
        Reject("mov %r1, 1\ncall local f\nja f\nf:\nmov %r0, %r1\nexit");
        // Falling through from main into a sub-program is rejected.
        Reject("mov %r1, 1\ncall local f\nmov %r0, 0\nf:\nmov %r0, %r1\nexit");
    }

    [Fact]
    public void ReadingR0AfterAFunctionThatReturnsNothingIsRefused()
    {
        // f writes r2 only: r0 after the call is what the kernel calls "R0 !read_ok".
        var e = Reject("mov %r1, 1\ncall local f\nmov %r6, %r0\nmov %r0, 0\nexit\nf:\nmov %r2, %r1\nexit");
        Assert.Equal(2, e.InstructionIndex);
        Assert.Contains("r0 is read but no path to here writes it: r0 is the result of the static function called at instruction 1, which returns no value", e.Message);
        // The main program's exit reads r0: returning what a void function left is refused too, also through a chain.
        Assert.Contains("returns no value", Reject("mov %r1, 1\ncall local f\nexit\nf:\nmov %r2, %r1\nexit").Message);
        Assert.Contains("returns no value", Reject("call local f\nexit\nf:\ncall local g\nexit\ng:\nmov %r2, 2\nexit").Message);
        // r0 set before the call does not survive it.
        Reject("mov %r0, 7\nmov %r1, 1\ncall local f\nexit\nf:\nmov %r2, %r1\nexit");

        // Not reading it is fine; so is a function that sets r0 on some path, by a move, a helper or a function it calls.
        Accept("mov %r1, 1\ncall local f\nmov %r0, 0\nexit\nf:\nmov %r2, %r1\nexit");
        Accept("mov %r1, 1\ncall local f\nexit\nf:\njeq %r1, 0, +1\nmov %r0, 1\nexit");
        Accept("mov %r1, 1\ncall local f\nexit\nf:\ncall 7\nexit");
        Accept("call local f\nexit\nf:\ncall local g\nexit\ng:\nmov %r0, 2\nexit");
    }

    [Fact]
    public void CodeOnlyABranchOnConstantsWouldReachIsNotChecked()
    {
        // r1 is 0, so the jump is always taken: the helper tc lacks behind it is never reached, as the kernel sees it
        // (a CO-RE existence check relocated to 0 guards code this way).
        Accept("mov %r1, 0\njeq %r1, 0, +2\ncall 113\nexit\nmov %r0, 0\nexit");
        Accept("mov32 %r1, 1\nlsh32 %r1, 3\njne %r1, 8, +2\nmov %r0, 0\nexit\ncall 113\nexit");
        // Where the branch may go either way, or the constant is lost, the call is refused.
        Assert.Contains("bpf_probe_read_kernel (#113) is not supported", Reject("mov %r1, 1\njeq %r1, 0, +2\ncall 113\nexit\nmov %r0, 0\nexit").Message);
        Assert.Contains("bpf_probe_read_kernel (#113) is not supported", Reject("ldxw %r1, [%r1+0]\njeq %r1, 0, +2\ncall 113\nexit\nmov %r0, 0\nexit").Message);
        Assert.Contains("bpf_probe_read_kernel (#113) is not supported", Reject("mov %r1, 0\ncall 7\nmov %r1, %r0\njeq %r1, 0, +2\ncall 113\nexit\nmov %r0, 0\nexit").Message);
        // Its register reads are not checked either; code no path reaches at all still is "unreachable".
        Accept("mov %r1, 0\njeq %r1, 0, +2\nmov %r0, %r7\nexit\nmov %r0, 0\nexit");
        Assert.Contains("unreachable instruction", Reject("mov %r0, 0\nexit\nmov %r0, 1\nexit").Message);
    }
}
