using Appliance.Bpf.Context;
using Appliance.Bpf.Verifier;
using Appliance.Bpf.Vm;
using Xunit;

namespace Appliance.Bpf.Tests.Vm;

/// <summary>Hostile programs that pass the verifier and must be stopped at run time — a fault in the result,
/// never an exception — and the arithmetic traps that must not fault at all. Run against both engines:
/// <see cref="HostileProgramTests"/> (interpreter) and <see cref="HostileProgramJitTests"/> (JIT).</summary>
public abstract class HostileProgramCases
{
    /// <summary>True to run the programs as native code from the JIT.</summary>
    protected abstract bool Jit { get; }

    private BpfVmOptions Options(BpfVmOptions? options = null) => new()
    {
        InstructionBudget = options?.InstructionBudget ?? BpfVmOptions.DefaultInstructionBudget,
        TraceSink = options?.TraceSink,
        UseJit = Jit,
    };

    private BpfRunResult Run(string assembly, byte[]? frame = null, params Appliance.Bpf.Maps.BpfMap[] maps)
    {
        var program = VmTestSupport.Load(assembly, maps);
        if (Jit) Assert.True(program.IsJitCompiled, program.JitUnavailableReason);
        var packet = VmTestSupport.Packet(frame ?? new byte[64]);
        return VmTestSupport.Run(program, ref packet, Options());
    }

    [Fact]
    public void OutOfBoundsPacketReadFaults()
    {
        // data = skb->data; read 4 bytes at data + 62 of a 64-byte packet (no bounds check in the program).
        var r = Run("ldxw %r2, [%r1+76]\nldxw %r0, [%r2+62]\nexit");
        Assert.Equal(BpfFault.OutOfBounds, r.Fault);
        Assert.Equal(1, r.FaultInstruction);
        // The same read at data + 60 is inside.
        Assert.Equal(BpfFault.None, Run("ldxw %r2, [%r1+76]\nldxw %r0, [%r2+60]\nexit").Fault);
        // Reading the headroom before data faults too.
        Assert.Equal(BpfFault.OutOfBounds, Run("ldxw %r2, [%r1+76]\nldxb %r0, [%r2-1]\nexit").Fault);
    }

    [Fact]
    public void RecursionIsRefusedAtLoad()
    {
        // The kernel refuses it too: the call chain passes its 8 frames.
        var e = Assert.Throws<BpfVerifierException>(() => VmTestSupport.Load("mov %r1, 0\ncall local f\nexit\nf:\nadd %r1, 1\ncall local f\nmov %r0, 0\nexit"));
        Assert.Contains("the function at instruction 3 calls itself (instruction 3 → instruction 3)", e.Message);
    }

    [Fact]
    public void StackAccessOutsideTheLiveFramesFaults()
    {
        // Above the top of the stack through a computed pointer.
        Assert.Equal(BpfFault.OutOfBounds, Run("mov %r2, %r10\nadd %r2, 8\nldxdw %r0, [%r2+0]\nexit").Fault);
        // Below the current (only) frame: the deeper frames are not live.
        Assert.Equal(BpfFault.OutOfBounds, Run("mov %r2, %r10\nadd %r2, -520\nstdw [%r2+0], 1\nmov %r0, 0\nexit").Fault);
        // A callee may use a pointer into its caller's frame (legal C), but not past the callers.
        var ok = Run("stdw [%r10-8], 42\nmov %r1, %r10\nadd %r1, -8\ncall local f\nexit\nf:\nldxdw %r0, [%r1+0]\nexit");
        Assert.Equal(BpfFault.None, ok.Fault);
        Assert.Equal(42UL, ok.R0);
    }

    [Fact]
    public void PointerArithmeticTricksFault()
    {
        // ctx + a large offset (the pointer arithmetic hides it from the load-time context checks).
        Assert.Equal(BpfFault.OutOfBounds, Run("add %r1, 4096\nldxw %r0, [%r1+0]\nexit").Fault);
        Assert.Equal(BpfFault.OutOfBounds, Run("add %r1, 0x7ffffff0\nldxw %r0, [%r1+0]\nexit").Fault);
        // A scalar forged into a pointer: into the packet window's headroom, and somewhere random.
        Assert.Equal(BpfFault.OutOfBounds, Run("mov %r2, 0x10000000\nldxb %r0, [%r2+0]\nexit").Fault);
        Assert.Equal(BpfFault.OutOfBounds, Run("lddw %r2, 0x7fffdeadbeef\nstxb [%r2+0], %r2\nmov %r0, 0\nexit").Fault);
        // NULL.
        Assert.Equal(BpfFault.OutOfBounds, Run("mov %r2, 0\nldxdw %r0, [%r2+0]\nexit").Fault);
        // A map handle is not memory.
        var map = TestArrayMap.Create(8);
        Assert.Equal(BpfFault.OutOfBounds, Run("lddw %r2, map[0]\nldxdw %r0, [%r2+0]\nexit", null, map).Fault);
        // Wrapping the address space around.
        Assert.Equal(BpfFault.OutOfBounds, Run("ldxw %r2, [%r1+76]\nlddw %r3, 0x100000000\nsub %r2, %r3\nldxb %r0, [%r2+0]\nexit").Fault);
    }

    [Fact]
    public void InfiniteLoopIsStoppedByTheBudget()
    {
        // The verifier cannot prove this loop endless (it has a conditional exit that never fires).
        var program = VmTestSupport.Load("mov %r0, 0\nadd %r0, 1\njne %r0, 0, -2\nexit");
        var packet = VmTestSupport.Packet(new byte[64]);
        var r = VmTestSupport.Run(program, ref packet, Options(new BpfVmOptions { InstructionBudget = 10_000 }));
        Assert.Equal(BpfFault.BudgetExhausted, r.Fault);
        Assert.Equal(10_000, r.InstructionsExecuted);
        var d = VmTestSupport.Run(program, ref packet, Options());
        Assert.Equal(BpfFault.BudgetExhausted, d.Fault);
        Assert.Equal(BpfVmOptions.DefaultInstructionBudget, d.InstructionsExecuted);
    }

    /// <summary>main calls f1 <paramref name="fanOut"/> times, f1 calls f2 as often, … down to f<paramref name="depth"/>,
    /// which returns 0: fanOut^depth calls of straight-line code, no loop anywhere.</summary>
    private static string CallFanOut(int fanOut, int depth)
    {
        var text = new System.Text.StringBuilder();
        for (int level = 0; level < depth; level++)
        {
            if (level > 0) text.Append($"f{level}:\n");
            for (int k = 0; k < fanOut; k++) text.Append($"call local f{level + 1}\n");
            text.Append("exit\n");
        }
        text.Append($"f{depth}:\nmov %r0, 0\nexit");
        return text.ToString();
    }

    [Fact]
    public void AFanOutOfCallsIsStoppedByTheBudget()
    {
        // 20^4 = 160,000 calls of the last function, over 320,000 instructions in all, not one back edge: the budget
        // of 100,000 must stop them on both engines (compiled code charges each call its callee's length).
        var program = VmTestSupport.Load(CallFanOut(20, 4));
        if (Jit) Assert.True(program.IsJitCompiled, program.JitUnavailableReason);
        var packet = VmTestSupport.Packet(new byte[64]);
        Assert.Equal(BpfFault.BudgetExhausted, VmTestSupport.Run(program, ref packet, Options(new BpfVmOptions { InstructionBudget = 100_000 })).Fault);
        // The same shape within the budget runs to its end: 10 + 100 + 1000 calls.
        var small = VmTestSupport.Load(CallFanOut(10, 3));
        var r = VmTestSupport.Run(small, ref packet, Options());
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal(0UL, r.R0);
    }

    /// <summary>bpf_loop(r1 = {0}) of a callback whose body is {1}, ctx = the caller's stack word at r10-8.</summary>
    private BpfRunResult RunLoop(string count, string callback, BpfVmOptions? options = null, params Appliance.Bpf.Maps.BpfMap[] maps)
    {
        var program = VmTestSupport.Load($"stdw [%r10-8], 0\n{count}\nlddw %r2, func cb\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 0\ncall 181\nexit\ncb:\n{callback}", maps);
        if (Jit) Assert.True(program.IsJitCompiled, program.JitUnavailableReason);
        var packet = VmTestSupport.Packet(new byte[64]);
        return VmTestSupport.Run(program, ref packet, Options(options));
    }

    [Fact]
    public void CallbacksThatRunForeverAreStoppedByTheBudget()
    {
        // A callback that loops forever, and the kernel's largest loop count of a callback doing little.
        Assert.Equal(BpfFault.BudgetExhausted, RunLoop("mov %r1, 1", "mov %r0, 0\nadd %r0, 1\njne %r0, 0, -2\nexit").Fault);
        var huge = RunLoop($"mov %r1, {BpfVm.MaxLoops}", "mov %r0, 0\nexit", new BpfVmOptions { InstructionBudget = 100_000 });
        Assert.Equal(BpfFault.BudgetExhausted, huge.Fault);
        Assert.Equal(100_000, huge.InstructionsExecuted);
    }

    [Fact]
    public void CallbacksCannotEscapeTheirVerdictTheStackOrTheRun()
    {
        // A verdict the verifier could not see (from the stack) above 1.
        Assert.Equal(BpfFault.HelperMisuse, RunLoop("mov %r1, 2", "stdw [%r10-8], 7\nldxdw %r0, [%r10-8]\nexit").Fault);
        // Past the top of the caller's frame through ctx: above the stack.
        Assert.Equal(BpfFault.OutOfBounds, RunLoop("mov %r1, 2", "stdw [%r2+8], 1\nmov %r0, 0\nexit").Fault);
        // Below its own frame's measured depth.
        Assert.Equal(BpfFault.OutOfBounds, RunLoop("mov %r1, 2", "mov %r3, %r10\nadd %r3, -1024\nstdw [%r3+0], 1\nmov %r0, 0\nexit").Fault);
        // A tail call from inside a callback (the kernel refuses it): the run faults instead of leaving the callback.
        var progs = (Appliance.Bpf.Maps.ProgArrayMap)Appliance.Bpf.Maps.BpfMap.Create(new Appliance.Bpf.Maps.BpfMapDefinition("progs", Appliance.Bpf.Maps.BpfMapType.ProgArray, 4, 4, 1));
        var program = VmTestSupport.Load("stdw [%r10-8], 0\nmov %r1, 1\nlddw %r2, func cb\nmov %r3, 0\nmov %r4, 0\ncall 181\nmov %r0, 5\nexit\ncb:\nlddw %r2, map[0]\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit", progs);
        if (Jit) Assert.True(program.IsJitCompiled, program.JitUnavailableReason);
        program.TailCallTargets = [program];
        Assert.Equal(0, progs.Update(BitConverter.GetBytes(0), BitConverter.GetBytes(0), 0));
        var packet = VmTestSupport.Packet(new byte[64]);
        var tail = VmTestSupport.Run(program, ref packet, Options());
        Assert.Equal(BpfFault.HelperMisuse, tail.Fault);
        Assert.Equal(12, tail.FaultInstruction);
    }

    [Fact]
    public void CallbacksNestedPastTheCallDepthLimitAreRefusedAtLoad()
    {
        var e = Assert.Throws<BpfVerifierException>(() => VmTestSupport.Load(Tests.Jit.CallbackJitTests.NestedLoops(8)));
        Assert.Contains("the call stack of 9 frames is too deep", e.Message);
        Assert.Equal(BpfFault.None, Run(Tests.Jit.CallbackJitTests.NestedLoops(7)).Fault);
    }

    [Fact]
    public void ForEachOnAMapItCannotWalkFaults()
    {
        var queue = Appliance.Bpf.Maps.BpfMap.Create(new Appliance.Bpf.Maps.BpfMapDefinition("q", Appliance.Bpf.Maps.BpfMapType.Queue, 0, 8, 4));
        // The map goes through the stack, so only the run sees it (a map known at load is refused there: MapHelperTests).
        var r = Run("lddw %r1, map[0]\nstxdw [%r10-8], %r1\nldxdw %r1, [%r10-8]\nlddw %r2, func cb\nmov %r3, 0\nmov %r4, 0\ncall 164\nexit\ncb:\nmov %r0, 0\nexit", null, queue);
        Assert.Equal(BpfFault.HelperMisuse, r.Fault);
        Assert.Equal(8, r.FaultInstruction);
    }

    [Fact]
    public void DivisionTricksFollowTheRfcWithoutFaulting()
    {
        Assert.Equal(0UL, Run("mov %r0, 7\nmov %r2, 0\ndiv %r0, %r2\nexit").R0);
        Assert.Equal(7UL, Run("mov %r0, 7\nmov %r2, 0\nmod %r0, %r2\nexit").R0);
        Assert.Equal(0x8000000000000000UL, Run("lddw %r0, 0x8000000000000000\nmov %r2, -1\nsdiv %r0, %r2\nexit").R0);
        Assert.Equal(0UL, Run("lddw %r0, 0x8000000000000000\nmov %r2, -1\nsmod %r0, %r2\nexit").R0);
        Assert.Equal(0x80000000UL, Run("mov32 %r0, 0x80000000\nmov32 %r2, -1\nsdiv32 %r0, %r2\nexit").R0);
        Assert.Equal(0xfffffff6UL, Run("lddw %r0, 0xfffffffffffffff6\nmov32 %r2, 0\nmod32 %r0, %r2\nexit").R0);
        Assert.All(new[] { "div", "sdiv", "mod", "smod" }, op =>
            Assert.Equal(BpfFault.None, Run($"mov %r0, -1\nmov %r2, 0\n{op} %r0, %r2\n{op}32 %r0, %r2\nexit").Fault));
    }

    [Fact]
    public void WriteToReadOnlyContextFieldFaults()
    {
        // The context pointer goes through the stack, so only the run-time check sees these stores.
        const string Spill = "stxdw [%r10-8], %r1\nldxdw %r2, [%r10-8]\n";
        var r = Run(Spill + "stw [%r2+0], 1\nmov %r0, 0\nexit"); // skb->len
        Assert.Equal(BpfFault.ReadOnlyWrite, r.Fault);
        Assert.Equal(BpfFault.ReadOnlyWrite, Run(Spill + "stw [%r2+76], 1\nmov %r0, 0\nexit").Fault); // data
        Assert.Equal(BpfFault.ReadOnlyWrite, Run(Spill + "stdw [%r2+8], 1\nmov %r0, 0\nexit").Fault); // mark + queue_mapping straddle
        Assert.Equal(BpfFault.ReadOnlyWrite, Run(Spill + "sth [%r2+8], 1\nmov %r0, 0\nexit").Fault); // narrow store to mark
    }

    [Fact]
    public void WriteToRodataFaults()
    {
        var rodata = TestArrayMap.Create(16, readOnly: true, initial: new byte[16]);
        var r = Run("lddw %r2, map_value[0]+8\nldxdw %r0, [%r2+0]\nstdw [%r2+0], 5\nexit", null, rodata);
        Assert.Equal(BpfFault.ReadOnlyWrite, r.Fault);
        Assert.Equal(3, r.FaultInstruction); // lddw takes slots 0 and 1
        Assert.All(rodata.Storage, b => Assert.Equal(0, b));
        // Writable .data works and is visible in the map.
        var data = TestArrayMap.Create(16);
        var w = Run("lddw %r2, map_value[0]+8\nstdw [%r2+0], 5\nmov %r0, 0\nexit", null, data);
        Assert.Equal(BpfFault.None, w.Fault);
        Assert.Equal(5UL, BitConverter.ToUInt64(data.Storage, 8));
    }

    [Fact]
    public void MisalignedAtomicFaults()
    {
        var r = Run("stdw [%r10-16], 0\nmov %r2, 1\nlock add [%r10-12], %r2\nmov %r0, 0\nexit");
        Assert.Equal(BpfFault.MisalignedAtomic, r.Fault);
    }

    [Fact]
    public void HugeProgramIsRejectedAtLoad()
    {
        var asm = string.Concat(Enumerable.Repeat("mov %r0, 0\n", 1_000_001)) + "exit";
        Assert.Throws<BpfVerifierException>(() => VmTestSupport.Load(asm));
    }

    [Fact]
    public void AFaultedRunLeavesTheVmUsable()
    {
        using var vm = new BpfVm(Options());
        var bad = VmTestSupport.Load("add %r1, 4096\nldxw %r0, [%r1+0]\nexit");
        var good = VmTestSupport.Load("ldxw %r0, [%r1+0]\nexit");
        var packet = VmTestSupport.Packet(new byte[60]);
        Assert.Equal(BpfFault.OutOfBounds, vm.Run(bad, ref packet).Fault);
        var r = vm.Run(good, ref packet);
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal(60UL, r.R0);
        Assert.Equal(TcAction.Ok, Run("mov %r0, 0\nexit").Verdict);
    }

    [Fact]
    public void AHelperThatThrowsBecomesAFault()
    {
        var r = Run("stw [%r10-4], 0\nmov %r2, %r10\nadd %r2, -4\nlddw %r1, map[0]\ncall 1\nexit", null, new ThrowingMap());
        Assert.Equal(BpfFault.HelperMisuse, r.Fault);
        Assert.Equal(5, r.FaultInstruction);
    }

    [Fact]
    public void TracePrintkWithAHugeWidthIsHarmless()
    {
        var lines = new List<string>();
        // "%99999999999d" then NUL, built on the stack.
        var program = VmTestSupport.Load("""
            stdw [%r10-16], 0
            stdw [%r10-8], 0
            lddw %r1, 0x3939393939393925
            stxdw [%r10-16], %r1
            lddw %r1, 0x0000006439393939
            stxdw [%r10-8], %r1
            mov %r1, %r10
            add %r1, -16
            mov %r2, 16
            mov %r3, 1
            call 6
            exit
            """);
        var packet = VmTestSupport.Packet(new byte[64]);
        var r = VmTestSupport.Run(program, ref packet, Options(new BpfVmOptions { TraceSink = lines.Add }));
        Assert.Equal(BpfFault.None, r.Fault);
        // As the kernel's: the width is the digits wrapped to a 32-bit int (1215752191) clamped to its 24-bit field
        // (2^23 - 1), counted, not produced; the line is what fits in its 1024-byte buffer; the return is the whole
        // formatted length (test:newer_helpers compares this width with the kernel's).
        Assert.Equal((1UL << 23) - 1, r.R0);
        Assert.Equal("test: " + new string(' ', 1023), Assert.Single(lines));
    }

    private sealed class ThrowingMap() : Appliance.Bpf.Maps.BpfMap(new Appliance.Bpf.Maps.BpfMapDefinition("bad", Appliance.Bpf.Maps.BpfMapType.Hash, 4, 8, 1))
    {
        public override bool TryLookup(ReadOnlySpan<byte> key, out Appliance.Bpf.Maps.MapValue value) => throw new InvalidOperationException("broken map");
        public override int Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags) => throw new InvalidOperationException();
        public override int Delete(ReadOnlySpan<byte> key) => throw new InvalidOperationException();
        public override bool TryGetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey) => false;
    }

    [Fact]
    public void ProvenContextAccessesKeepTheKernelsSemantics()
    {
        // The verifier proves these (r1 at entry): they become direct context operations on both engines.
        var program = VmTestSupport.Load("""
            ldxw %r2, [%r1+8]
            add %r2, 1
            stxw [%r1+8], %r2
            stw [%r1+44], 0x12345
            stw [%r1+12], 0x1ffff
            ldxw %r0, [%r1+8]
            exit
            """);
        Assert.True(program.UsesContextDirectly);
        var packet = VmTestSupport.Packet(new byte[64]);
        packet.Mark = 41;
        packet.QueueMapping = 3;
        var r = VmTestSupport.Run(program, ref packet, Options());
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal(42UL, r.R0);
        Assert.Equal(42u, packet.Mark);
        Assert.Equal(0x2345u, packet.TcIndex);   // the kernel's 16-bit tc_index keeps the low half
        Assert.Equal(3u, packet.QueueMapping);   // 0xffff and up leave queue_mapping alone
        Assert.Throws<InvalidOperationException>(() => new BpfVm(Options()).RunWithMemory(program, new byte[8]));
    }

    [Fact]
    public void ContextInASubprogramIsCheckedAtRunTime()
    {
        // The subprogram gets the context in r1, which the load-time rules do not follow there: its stores go
        // through the run-time check, which allows mark and refuses len.
        const string Body = """
            call local sub
            mov %r0, 0
            exit
            sub:
            {0}
            mov %r0, 0
            exit
            """;
        var ok = VmTestSupport.Load(Body.Replace("{0}", "stw [%r1+8], 7"));
        Assert.False(ok.UsesContextDirectly);
        var packet = VmTestSupport.Packet(new byte[64]);
        Assert.Equal(BpfFault.None, VmTestSupport.Run(ok, ref packet, Options()).Fault);
        Assert.Equal(7u, packet.Mark);
        var bad = VmTestSupport.Run(VmTestSupport.Load(Body.Replace("{0}", "stw [%r1+0], 7")), ref packet, Options());
        Assert.Equal(BpfFault.ReadOnlyWrite, bad.Fault);
        Assert.Equal(3, bad.FaultInstruction);
    }

    public static TheoryData<int> RangeCases()
    {
        var cases = new TheoryData<int>();
        for (int i = 0; i < HostileRangeCases.All.Length; i++) cases.Add(i);
        return cases;
    }

    [Theory]
    [MemberData(nameof(RangeCases))]
    public void AccessesOutsideTheProvenRangeFault(int index)
    {
        var (name, program, length, faultAt) = HostileRangeCases.All[index];
        var frame = Enumerable.Repeat((byte)0xff, length).ToArray();
        var values = Appliance.Bpf.Maps.BpfMap.Create(new Appliance.Bpf.Maps.BpfMapDefinition("values", Appliance.Bpf.Maps.BpfMapType.Array, 4, 8, 1));
        var r = Run(program, frame, values);
        Assert.True(r.Fault == BpfFault.OutOfBounds && r.FaultInstruction == faultAt, $"{name}: {r.Fault} at {r.FaultInstruction}, expected OutOfBounds at {faultAt}");
    }

    [Fact]
    public void ProvenAccessesReadAndWriteWhatTheyAddress()
    {
        // Ethernet + IPv4 checked, the UDP ports through data + ihl * 4 checked again, the pointer spilled and
        // filled, a store to the packet: every access proven, so the JIT runs them without a check.
        const string Program = """
            ldxw %r2, [%r1+76]
            ldxw %r3, [%r1+80]
            mov %r4, %r2
            add %r4, 34
            jgt %r4, %r3, out
            ldxb %r5, [%r2+14]
            and %r5, 15
            lsh %r5, 2
            mov %r6, %r2
            add %r6, %r5
            mov %r4, %r6
            add %r4, 22
            jgt %r4, %r3, out
            ldxh %r0, [%r6+16]
            stxdw [%r10-8], %r6
            ldxdw %r7, [%r10-8]
            ldxh %r8, [%r7+14]
            add %r0, %r8
            sth [%r2+0], 0x1234
            exit
            out:
            mov %r0, 0
            exit
            """;
        var program = VmTestSupport.Load(Program);
        Assert.Equal(0, program.JitCheckedAccesses);
        var packet = VmTestSupport.Packet(VmTestSupport.Ipv4UdpFrame());
        var r = VmTestSupport.Run(program, ref packet, Options());
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal(0x3500UL + 0x3930UL, r.R0); // the ports, read little-endian
        Assert.Equal(new byte[] { 0x34, 0x12 }, packet.Data[..2].ToArray());
        // A frame too short for the second check takes the out branch.
        var shortPacket = VmTestSupport.Packet(VmTestSupport.Ipv4UdpFrame()[..40]);
        Assert.Equal(0UL, VmTestSupport.Run(program, ref shortPacket, Options()).R0);
    }

    [Fact]
    public void ProvenMapValueAccessesChangeTheMap()
    {
        var values = Appliance.Bpf.Maps.BpfMap.Create(new Appliance.Bpf.Maps.BpfMapDefinition("values", Appliance.Bpf.Maps.BpfMapType.Array, 4, 16, 2));
        var program = VmTestSupport.Load("""
            stw [%r10-4], 1
            lddw %r1, map[0]
            mov %r2, %r10
            add %r2, -4
            call 1
            jeq %r0, 0, out
            ldxdw %r1, [%r0+8]
            add %r1, 5
            stxdw [%r0+8], %r1
            mov %r1, 2
            lock add [%r0+0], %r1
            ldxdw %r0, [%r0+8]
            exit
            out:
            mov %r0, 0
            exit
            """, values);
        Assert.Equal(0, program.JitCheckedAccesses);
        for (int round = 1; round <= 2; round++)
        {
            var packet = VmTestSupport.Packet(new byte[64]);
            var r = VmTestSupport.Run(program, ref packet, Options());
            Assert.Equal(BpfFault.None, r.Fault);
            Assert.Equal((ulong)(5 * round), r.R0);
        }
        Assert.True(values.TryLookup(BitConverter.GetBytes(1), out var value));
        Assert.Equal(4UL, BitConverter.ToUInt64(value.AsSpan(0, 8)));
    }

    [Fact]
    public void GlobalsStayCorrectWhenProgramsShareAVm()
    {
        // A reads its global; B has none and takes region slots by map lookups; A again must still see its own
        // global (the VM keeps a program's globals bound between its runs) and B must not reach it.
        var global = TestArrayMap.Create(16, initial: [0, 0, 0, 0, 0, 0, 0, 0, 0x2a, 0, 0, 0, 0, 0, 0, 0]);
        var array = TestArrayMap.Create(16, entries: 4);
        var a = VmTestSupport.Load("lddw %r2, map_value[0]+8\nldxdw %r0, [%r2+0]\nexit", global);
        var b = VmTestSupport.Load("""
            stw [%r10-4], 1
            lddw %r1, map[0]
            mov %r2, %r10
            add %r2, -4
            call 1
            jeq %r0, 0, out
            stdw [%r0+0], 5
            out:
            mov %r0, 0
            exit
            """, array);
        using var vm = new BpfVm(Options());
        var packet = VmTestSupport.Packet(new byte[64]);
        for (int round = 0; round < 3; round++)
        {
            var ra = vm.Run(a, ref packet);
            Assert.Equal(BpfFault.None, ra.Fault);
            Assert.Equal(0x2aUL, ra.R0);
            Assert.Equal(BpfFault.None, vm.Run(b, ref packet).Fault);
        }
        Assert.Equal(5UL, BitConverter.ToUInt64(array.Storage, 16));
        Assert.Equal(0x2aUL, BitConverter.ToUInt64(global.Storage, 8));
        // B forging A's global address (region 3) faults: that slot is B's own map value or nothing.
        var forged = vm.Run(VmTestSupport.Load("lddw %r2, 0x310000008\nldxdw %r0, [%r2+0]\nexit"), ref packet);
        Assert.Equal(BpfFault.OutOfBounds, forged.Fault);
    }

}

/// <summary>The hostile programs on the interpreter.</summary>
public sealed class HostileProgramTests : HostileProgramCases
{
    protected override bool Jit => false;
}

/// <summary>The hostile programs as native code from the JIT: the same faults, at the same instructions.</summary>
public sealed class HostileProgramJitTests : HostileProgramCases
{
    protected override bool Jit => true;
}
