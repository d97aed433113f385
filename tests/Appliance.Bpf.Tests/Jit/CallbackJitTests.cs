using System.Runtime.InteropServices;
using Appliance.Bpf.Jit;
using Appliance.Bpf.Maps;
using Appliance.Bpf.Tests.Vm;
using Appliance.Bpf.Verifier;
using Appliance.Bpf.Vm;
using Xunit;

namespace Appliance.Bpf.Tests.Jit;

/// <summary>bpf_loop compiled (JitLowering.InlineLoop: a loop of bpf-to-bpf calls of the callback) against the
/// interpreter, the reference: each program runs on both engines (the JIT's run asserted to be the JIT's) and must
/// give the same r0, fault and fault instruction, stack words and map contents. The edge cases of the kernel's
/// helper (no loops, one, 1 &lt;&lt; 23, one more, flags), a callback stopping at iteration k, writing the caller's
/// stack through ctx, running bpf_loop itself, calling helpers and subprograms, returning a bad verdict, looping
/// forever, and nesting past the call depth limit. The arm64 code runs the same lowering in the random differential
/// under qemu (Arm64JitTests), whose programs call bpf_loop too.</summary>
public sealed class CallbackJitTests
{
    /// <summary>Sums the indices into the caller's stack through ctx ({0} loops, flags {1}) and returns sum &lt;&lt; 32 |
    /// bpf_loop's r0; the callback stops (returns 1) at index {2}. It overwrites r6–r9 and its own stack word, which
    /// the caller's must survive (else the program returns 0xdead).</summary>
    private const string SumLoop = """
        stdw [%r10-8], 0
        mov %r6, 6
        mov %r7, 7
        mov %r8, 8
        mov %r9, 9
        lddw %r1, {0}
        lddw %r2, func cb
        mov %r3, %r10
        add %r3, -8
        lddw %r4, {1}
        call 181
        jne %r6, 6, bad
        jne %r7, 7, bad
        jne %r8, 8, bad
        jne %r9, 9, bad
        stxdw [%r10-16], %r0
        ldxdw %r0, [%r10-8]
        lsh %r0, 32
        ldxdw %r1, [%r10-16]
        or %r0, %r1
        exit
        bad:
        mov %r0, 0xdead
        exit
        cb:
        mov %r6, 60
        mov %r7, 70
        mov %r8, 80
        mov %r9, 90
        stdw [%r10-8], 7
        ldxdw %r0, [%r2+0]
        add %r0, %r1
        stxdw [%r2+0], %r0
        mov %r0, 0
        jne %r1, {2}, +1
        mov %r0, 1
        exit
        """;

    private static string Sum(long count, long flags = 0, long stopAt = -1) => string.Format(SumLoop, count, flags, stopAt);

    private sealed record Outcome(BpfRunResult Run, string Engine, byte[] Map);

    private static Outcome RunOn(string text, bool jit, long budget, Func<BpfMap[]> maps)
    {
        var bound = maps();
        var program = VmTestSupport.Load(text, bound);
        if (jit) Assert.True(program.IsJitCompiled, program.JitUnavailableReason);
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit, InstructionBudget = budget });
        var packet = VmTestSupport.Packet(new byte[64]);
        var run = vm.Run(program, ref packet);
        var contents = new List<byte>();
        foreach (var map in bound)
        {
            var value = new byte[map.UserValueSize];
            for (uint k = 0; k < map.MaxEntries; k++)
                if (map.TryLookupFromUser(BitConverter.GetBytes(k), value)) contents.AddRange(value);
        }
        return new Outcome(run, program.EngineName(vm.Options.UseJit), [.. contents]);
    }

    /// <summary>Both engines; asserts they agree (the fault instruction too, except where the budget ran out: the
    /// interpreter stops at the instruction that found it spent, the JIT at the back edge that charged it) and
    /// returns the JIT's run.</summary>
    private static BpfRunResult Agree(string text, long budget = BpfVmOptions.DefaultInstructionBudget, Func<BpfMap[]>? maps = null)
    {
        maps ??= () => [];
        var interpreted = RunOn(text, jit: false, budget, maps);
        var compiled = RunOn(text, jit: true, budget, maps);
        Assert.Equal("interpreter", interpreted.Engine);
        Assert.Equal("jit", compiled.Engine);
        Assert.Equal(interpreted.Run.Fault, compiled.Run.Fault);
        if (interpreted.Run.Fault != BpfFault.BudgetExhausted) Assert.Equal(interpreted.Run.FaultInstruction, compiled.Run.FaultInstruction);
        Assert.Equal(interpreted.Run.R0, compiled.Run.R0);
        Assert.Equal(interpreted.Map, compiled.Map);
        return compiled.Run;
    }

    [Theory]
    [InlineData(0, 0UL)]
    [InlineData(1, 1UL)]
    [InlineData(5, 5UL | 10UL << 32)]
    [InlineData(1000, 1000UL | 499500UL << 32)]
    public void LoopsCallTheCallbackWithEachIndex(long count, ulong expected)
    {
        var r = Agree(Sum(count));
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal(expected, r.R0);
    }

    [Fact]
    public void TheKernelsLimitOfLoopsRunsAndOneMoreIsE2big()
    {
        // 1 << 23 calls of an 11-instruction callback: within a budget of 2^27 on both engines.
        var r = Agree(Sum(BpfVm.MaxLoops), budget: 1L << 27);
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal((ulong)BpfVm.MaxLoops | ((ulong)BpfVm.MaxLoops * (BpfVm.MaxLoops - 1) / 2) << 32, r.R0);
        var tooMany = Agree(Sum(BpfVm.MaxLoops + 1));
        Assert.Equal(unchecked((ulong)(long)-Errno.E2BIG), tooMany.R0); // (the sum, 0, or-ed into the high half: no call)
        // nr_loops is a u32: 2^32 + 3 is 3 loops.
        Assert.Equal(3UL | 3UL << 32, Agree(Sum(0x1_0000_0003)).R0);
    }

    [Fact]
    public void FlagsOtherThanZeroAreEinvalBeforeTheCountIsLookedAt()
    {
        Assert.Equal(unchecked((ulong)(long)-Errno.EINVAL), Agree(Sum(5, flags: 1)).R0);
        Assert.Equal(unchecked((ulong)(long)-Errno.EINVAL), Agree(Sum(BpfVm.MaxLoops + 1, flags: 1L << 40)).R0);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(9)]
    public void ACallbackReturningOneStopsTheLoopAndCounts(int k)
    {
        var r = Agree(Sum(10, stopAt: k));
        Assert.Equal((ulong)(uint)(k + 1) | (ulong)(uint)(k * (k + 1) / 2) << 32, r.R0);
    }

    [Fact]
    public void AHugeLoopEndsWithTheBudgetOnBothEngines()
    {
        var r = Agree(Sum(BpfVm.MaxLoops));
        Assert.Equal(BpfFault.BudgetExhausted, r.Fault);
        Assert.Equal(BpfVmOptions.DefaultInstructionBudget, r.InstructionsExecuted);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AWalkOfAnLruMapIsNotAUseOfItsElements(bool jit)
    {
        // Four keys, a program walking them all, then program lookups of 1-3: 4 is still the least recently used, so
        // the insert that finds the map full evicts it (a walk marking its elements would make the sweep take 1).
        var map = BpfMap.Create(new BpfMapDefinition("lru", BpfMapType.LruHash, 4, 4, 4));
        foreach (uint k in new uint[] { 1, 2, 3, 4 }) Assert.Equal(0, map.Update(BitConverter.GetBytes(k), BitConverter.GetBytes(k), 0));
        var program = VmTestSupport.Load("lddw %r1, map[0]\nlddw %r2, func cb\nmov %r3, 0\nmov %r4, 0\ncall 164\nexit\ncb:\nmov %r0, 0\nexit", map);
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        var packet = VmTestSupport.Packet(new byte[64]);
        var run = vm.Run(program, ref packet);
        Assert.Equal(jit ? "jit" : "interpreter", program.EngineName(vm.Options.UseJit));
        Assert.Equal(BpfFault.None, run.Fault);
        Assert.Equal(4UL, run.R0);
        foreach (uint k in new uint[] { 1, 2, 3 }) Assert.True(map.TryLookup(BitConverter.GetBytes(k), out _));
        Assert.Equal(0, map.Update(BitConverter.GetBytes(5u), BitConverter.GetBytes(5u), 0));
        var value = new byte[4];
        Assert.False(map.TryLookupFromUser(BitConverter.GetBytes(4u), value));
        foreach (uint k in new uint[] { 1, 2, 3, 5 }) Assert.True(map.TryLookupFromUser(BitConverter.GetBytes(k), value));
    }

    [Fact]
    public void EachCallOfACallbackStartsWithTheCallersR6ToR9()
    {
        // The callback writes r6 on its first call only and reads it on every call (our verifier lets a register
        // written on one path be read; the kernel's does not). Its second call must see the caller's 7, not the 8 the
        // first call left: 7 & 1 stops the loop there, on both engines.
        var r = Agree("mov %r6, 7\nmov %r1, 4\nlddw %r2, func cb\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit\n" +
            "cb:\njne %r1, 0, +1\nmov %r6, 8\nmov %r0, %r6\nand %r0, 1\nexit");
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal(2UL, r.R0);
    }

    [Fact]
    public void ACallbackThatLoopsForeverEndsWithTheBudget()
    {
        var r = Agree("mov %r1, 3\nlddw %r2, func cb\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit\ncb:\nmov %r0, 0\nadd %r0, 1\njne %r0, 0, -2\nexit",
            budget: 50_000);
        Assert.Equal(BpfFault.BudgetExhausted, r.Fault);
    }

    [Fact]
    public void ACallbackVerdictAboveOneFaultsAtItsExit()
    {
        // The verifier cannot see the value (it comes from the stack), so the run checks it.
        string text = "stdw [%r10-8], 2\nmov %r1, 4\nlddw %r2, func cb\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 0\ncall 181\nexit\ncb:\nldxdw %r0, [%r2+0]\nexit";
        var r = Agree(text);
        Assert.Equal(BpfFault.HelperMisuse, r.Fault);
        Assert.Equal(10, r.FaultInstruction);
    }

    /// <summary>bpf_loop(<paramref name="count"/>) of the callback "outer" with ctx = the word at r10-8 (0); r0 = calls
    /// &lt;&lt; 32 | the word.</summary>
    private static string OuterLoop(int count) => $"""
        stdw [%r10-8], 0
        mov %r1, {count}
        lddw %r2, func outer
        mov %r3, %r10
        add %r3, -8
        mov %r4, 0
        call 181
        ldxdw %r1, [%r10-8]
        lsh %r0, 32
        or %r0, %r1
        exit

        """;

    [Fact]
    public void ANestedLoopRunsInsideTheCallback()
    {
        // Outer loop of 4, each running an inner loop of (index + 1) calls adding 100 to the caller's word; the
        // outer callback's own stack word survives the inner loop.
        var r = Agree(OuterLoop(4) + """
            outer:
            stxdw [%r10-8], %r2
            stdw [%r10-16], 77
            add %r1, 1
            lddw %r2, func inner
            ldxdw %r3, [%r10-8]
            mov %r4, 0
            call 181
            ldxdw %r1, [%r10-8]
            ldxdw %r2, [%r1+0]
            add %r2, %r0
            ldxdw %r3, [%r10-16]
            add %r2, %r3
            stxdw [%r1+0], %r2
            mov %r0, 0
            exit
            inner:
            ldxdw %r0, [%r2+0]
            add %r0, 100
            stxdw [%r2+0], %r0
            mov %r0, 0
            exit
            """);
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal(4UL << 32 | (1000 + 10 + 4 * 77), r.R0);
    }

    [Fact]
    public void ACallbackCallsHelpersAndSubprogramsWithItsStack()
    {
        // The callback writes index * 3 (from a subprogram) into array element index through map_update_elem with key
        // and value on its own stack (the VM reads them through the callback's stack region), then r0 = the lookup's value.
        var r = Agree("""
            mov %r1, 4
            lddw %r2, func cb
            mov %r3, 0
            mov %r4, 0
            call 181
            exit
            cb:
            stxw [%r10-4], %r1
            call local triple
            stxdw [%r10-16], %r0
            lddw %r1, map[0]
            mov %r2, %r10
            add %r2, -4
            mov %r3, %r10
            add %r3, -16
            mov %r4, 0
            call 2
            mov %r0, 0
            exit
            triple:
            mov %r0, %r1
            mul %r0, 3
            exit
            """, maps: () => [BpfMap.Create(new BpfMapDefinition("a", BpfMapType.Array, 4, 8, 4))]);
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal(4UL, r.R0);
    }

    [Fact]
    public void AnArgumentThatIsNoCallbackFaults()
    {
        // Control flow joins two values in r2: the verifier cannot pin the callback; a scalar faults at the call.
        string text = "mov %r2, 5\nldxw %r0, [%r1+0]\njeq %r0, 12345, +2\nlddw %r2, func cb\nmov %r1, 2\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit\ncb:\nmov %r0, 0\nexit";
        var r = Agree(text);
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal(2UL, r.R0);
        var misuse = Agree(text.Replace("jeq %r0, 12345", "jeq %r0, 64"));
        Assert.Equal(BpfFault.HelperMisuse, misuse.Fault);
        Assert.Equal(8, misuse.FaultInstruction);
    }

    /// <summary><paramref name="levels"/> callbacks, each running bpf_loop with the next: frames 1..levels below the entry.</summary>
    internal static string NestedLoops(int levels)
    {
        var text = new System.Text.StringBuilder("mov %r1, 1\nlddw %r2, func cb1\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit\n");
        for (int k = 1; k <= levels; k++)
            text.Append($"cb{k}:\n").Append(k < levels ? $"mov %r1, 1\nlddw %r2, func cb{k + 1}\nmov %r3, 0\nmov %r4, 0\ncall 181\nmov %r0, 0\nexit\n" : "mov %r0, 0\nexit\n");
        return text.ToString();
    }

    [Fact]
    public void LoopsNestedToTheCallDepthLimitRunAndPastItAreRefused()
    {
        // 7 callbacks below the entry: 8 frames, the kernel's limit, on both engines.
        var r = Agree(NestedLoops(7));
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal(1UL, r.R0);
        // An eighth is refused at load, as the kernel refuses it (callback frames count as calls).
        var e = Assert.Throws<BpfVerifierException>(() => Agree(NestedLoops(8)));
        Assert.Contains("the call stack of 9 frames is too deep", e.Message);
    }

    /// <summary>Each element's value (8 bytes) added into the caller's word through ctx, the element then changed by
    /// {0}; the callback stops at the element whose value is {1}. r0 = calls &lt;&lt; 32 | sum.</summary>
    private const string SumMap = """
        stdw [%r10-8], 0
        lddw %r1, map[0]
        lddw %r2, func cb
        mov %r3, %r10
        add %r3, -8
        lddw %r4, {2}
        call 164
        lsh %r0, 32
        ldxdw %r1, [%r10-8]
        or %r0, %r1
        exit
        cb:
        ldxdw %r5, [%r3+0]
        ldxdw %r0, [%r4+0]
        add %r0, %r5
        stxdw [%r4+0], %r0
        mov %r6, 0
        jne %r5, {1}, +1
        mov %r6, 1
        {0}
        mov %r0, %r6
        exit
        """;

    internal static string SumMapText(string change = "", long stopAtValue = -1, long flags = 0) => string.Format(SumMap, change, stopAtValue, flags);

    /// <summary>A map of <paramref name="type"/> (4-byte keys, 8-byte values, 16 entries) holding key k → k * 10 for
    /// k in <paramref name="keys"/>.</summary>
    private static Func<BpfMap[]> Filled(BpfMapType type, params uint[] keys) => () =>
    {
        var map = BpfMap.Create(new BpfMapDefinition("m", type, 4, 8, 16));
        foreach (uint k in keys)
        {
            var value = new byte[map.UserValueSize];
            for (int cpu = 0; cpu < value.Length / 8; cpu++) BitConverter.TryWriteBytes(value.AsSpan(cpu * 8), (ulong)k * 10);
            Assert.Equal(0, map.UpdateFromUser(BitConverter.GetBytes(k), value, 0));
        }
        return [map];
    };

    public static TheoryData<BpfMapType> ForEachMaps() =>
        [BpfMapType.Array, BpfMapType.PercpuArray, BpfMapType.Hash, BpfMapType.PercpuHash, BpfMapType.LruHash, BpfMapType.LruPercpuHash];

    [Theory]
    [MemberData(nameof(ForEachMaps))]
    public void ForEachVisitsEveryElementWithItsKeyAndValue(BpfMapType type)
    {
        // The callback doubles each value through the value pointer and adds the key to it through the key pointer.
        var r = Agree(SumMapText("ldxw %r7, [%r2+0]\nldxdw %r8, [%r3+0]\nlsh %r8, 1\nadd %r8, %r7\nstxdw [%r3+0], %r8"),
            maps: Filled(type, 1, 2, 3, 5, 8));
        Assert.Equal(BpfFault.None, r.Fault);
        bool array = type is BpfMapType.Array or BpfMapType.PercpuArray;
        Assert.Equal((array ? 16UL : 5UL) << 32 | 190, r.R0);
    }

    [Theory]
    [MemberData(nameof(ForEachMaps))]
    public void ForEachStopsAtTheElementWhoseCallbackReturnsOne(BpfMapType type)
    {
        var r = Agree(SumMapText(stopAtValue: 30), maps: Filled(type, 1, 2, 3, 5, 8));
        Assert.Equal(BpfFault.None, r.Fault);
        if (type is BpfMapType.Array or BpfMapType.PercpuArray) Assert.Equal(4UL << 32 | 60, r.R0);  // keys 0..3
        else Assert.InRange(r.R0 >> 32, 1UL, 5UL);                                                      // a hash's order is its own
        Assert.InRange(r.R0 & 0xffff_ffff, 30UL, 150UL);
    }

    [Theory]
    [InlineData(BpfMapType.Hash)]
    [InlineData(BpfMapType.PercpuHash)]
    [InlineData(BpfMapType.LruHash)]
    [InlineData(BpfMapType.LruPercpuHash)]
    public void ForEachOnAHashSkipsElementsDeletedMeanwhileAndVisitsNoneAdded(BpfMapType type)
    {
        // Keys 2..7 in pairs (2, 3), (4, 5), (6, 7): each callback deletes its element's partner (key ^ 1) and inserts
        // key + 100, so whatever the hash's order, one of each pair is visited and no inserted key is.
        string change = """
            ldxw %r9, [%r2+0]
            mov %r7, %r9
            xor %r7, 1
            stxw [%r10-4], %r7
            lddw %r1, map[0]
            mov %r2, %r10
            add %r2, -4
            call 3
            add %r9, 100
            stxw [%r10-4], %r9
            stdw [%r10-16], 1
            lddw %r1, map[0]
            mov %r2, %r10
            add %r2, -4
            mov %r3, %r10
            add %r3, -16
            mov %r4, 0
            call 2
            """;
        var r = Agree(SumMapText(change), maps: Filled(type, 2, 3, 4, 5, 6, 7));
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal(3UL, r.R0 >> 32);
    }

    [Fact]
    public void ForEachArgumentsTheKernelRefusesGiveItsErrors()
    {
        Assert.Equal(unchecked((ulong)(long)-Errno.EINVAL) << 32, Agree(SumMapText(flags: 1), maps: Filled(BpfMapType.Array, 1)).R0);
        Assert.Equal(0UL, Agree(SumMapText(), maps: Filled(BpfMapType.Hash)).R0);  // no element: no call
        // A queue has no elements to walk: the kernel refuses it at load, and so do we (through the stack, where only
        // the run sees the map, the run faults: HostileProgramTests).
        var e = Assert.Throws<Bpf.Verifier.BpfVerifierException>(() => VmTestSupport.Load(SumMapText(), BpfMap.Create(new BpfMapDefinition("q", BpfMapType.Queue, 0, 8, 4))));
        Assert.Contains("cannot pass map_type 22 into func bpf_for_each_map_elem#164", e.Message);
    }

    [Fact]
    public void ForEachKeysAreReadOnlyAndValuesOfReadOnlyMapsToo()
    {
        var r = Agree(SumMapText("stw [%r2+0], 1"), maps: Filled(BpfMapType.Hash, 1, 2));
        Assert.Equal(BpfFault.ReadOnlyWrite, r.Fault);
    }

    [Fact]
    public void ForEachAndBpfLoopNestInEachOther()
    {
        // bpf_loop(3) whose callback walks the array (adding each value to the caller's word), and that walk's callback
        // runs bpf_loop(2) adding 1 twice.
        var r = Agree(OuterLoop(3) + """
            outer:
            lddw %r1, map[0]
            mov %r3, %r2
            lddw %r2, func walk
            mov %r4, 0
            call 164
            mov %r0, 0
            exit
            walk:
            stxdw [%r10-8], %r4
            ldxdw %r5, [%r3+0]
            ldxdw %r0, [%r4+0]
            add %r0, %r5
            stxdw [%r4+0], %r0
            mov %r1, 2
            lddw %r2, func inner
            ldxdw %r3, [%r10-8]
            mov %r4, 0
            call 181
            mov %r0, 0
            exit
            inner:
            ldxdw %r0, [%r2+0]
            add %r0, 1
            stxdw [%r2+0], %r0
            mov %r0, 0
            exit
            """, maps: () => [BpfMap.Create(new BpfMapDefinition("a", BpfMapType.Array, 4, 8, 4))]);
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal(3UL << 32 | 3 * 4 * 2, r.R0);
    }

    [Fact]
    public void ACallbackForEachElementOfAHugeArrayEndsWithTheBudget()
    {
        var r = Agree(SumMapText(), budget: 20_000, maps: () => [BpfMap.Create(new BpfMapDefinition("a", BpfMapType.Array, 4, 8, 100_000))]);
        Assert.Equal(BpfFault.BudgetExhausted, r.Fault);
    }

    [Fact]
    public void ALookupInsideForEachGetsARegionOfItsOwnWhateverTheValueCacheRemembers()
    {
        // A first run (frame byte 1) looks up keys 3 and 0 (regions F, F + 1; the value cache remembers F + 1 for
        // element 0); a second run (byte 0) walks the array: the helper's key and value regions are F and F + 1 again,
        // and the callback looks up element 0, keeps the pointer in the caller's stack, which reads through it after
        // the walk. The lookup's region must be its own (the walk's value region ends with the helper), as the
        // interpreter's helper makes it.
        const string text = """
            ldxw %r2, [%r1+76]
            ldxw %r3, [%r1+80]
            mov %r4, %r2
            add %r4, 1
            jgt %r4, %r3, out
            ldxb %r5, [%r2+0]
            jeq %r5, 0, walk
            stw [%r10-4], 3
            lddw %r1, map[0]
            mov %r2, %r10
            add %r2, -4
            call 1
            stw [%r10-4], 0
            lddw %r1, map[0]
            mov %r2, %r10
            add %r2, -4
            call 1
            mov %r0, 1
            exit
            walk:
            stdw [%r10-8], 0
            lddw %r1, map[0]
            lddw %r2, func cb
            mov %r3, %r10
            add %r3, -8
            mov %r4, 0
            call 164
            ldxdw %r1, [%r10-8]
            jeq %r1, 0, out
            ldxdw %r0, [%r1+0]
            exit
            out:
            mov %r0, 0
            exit
            cb:
            ldxw %r5, [%r2+0]
            jne %r5, 0, skip
            mov %r6, %r4
            lddw %r1, map[0]
            call 1
            stxdw [%r6+0], %r0
            skip:
            mov %r0, 0
            exit
            """;
        foreach (bool jit in new[] { false, true })
        {
            var map = BpfMap.Create(new BpfMapDefinition("a", BpfMapType.Array, 4, 8, 4));
            Assert.Equal(0, map.Update(BitConverter.GetBytes(0), BitConverter.GetBytes(42UL), 0));
            var program = VmTestSupport.LoadFor(text, jit, map);
            using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
            var first = VmTestSupport.Packet([1, .. new byte[63]]);
            Assert.Equal(1UL, vm.Run(program, ref first).R0);
            var second = VmTestSupport.Packet(new byte[64]);
            var r = vm.Run(program, ref second);
            Assert.Equal(BpfFault.None, r.Fault);
            Assert.Equal(42UL, r.R0);
        }
    }

    /// <summary>10,000 callbacks each run by a bpf_loop of its own: the compiled dispatch (every site compares r2 with
    /// every callback) would grow as their product, gigabytes of code from a 700 KB object (it threw OutOfMemoryException
    /// at load; found by fuzzing). Such a program is left to the interpreter, which finds a callback by binary search.</summary>
    [Fact]
    public void ManyCallbacksAndLoopsAreLeftToTheInterpreter()
    {
        const int callbacks = 10_000;
        var text = new System.Text.StringBuilder();
        for (int j = 0; j < callbacks; j++) text.Append($"mov %r1, 1\nlddw %r2, func cb{j}\nmov %r3, 0\nmov %r4, 0\ncall 181\n");
        text.Append("mov %r0, 0\nexit\n");
        for (int j = 0; j < callbacks; j++) text.Append($"cb{j}:\nmov %r0, 1\nexit\n");
        var program = VmTestSupport.Load(text.ToString(), []);
        Assert.False(program.IsJitCompiled);
        Assert.Contains("10000 callbacks and 20000 callback dispatches", program.JitUnavailableReason);
        using var vm = new BpfVm(new BpfVmOptions { UseJit = true });
        var packet = VmTestSupport.Packet(new byte[64]);
        var r = vm.Run(program, ref packet);
        Assert.Equal((BpfFault.None, 0UL), (r.Fault, r.R0));
        Assert.Equal("interpreter", program.EngineName(useJit: true));
    }

    [Fact]
    public void TheLoopStateLivesWhereTheCompiledCodeReadsIt()
    {
        Assert.Equal(JitState.LoopsOffset, (int)Marshal.OffsetOf<JitState>(nameof(JitState.Loops)));
        Assert.Equal(JitState.CallbackLevelOffset, (int)Marshal.OffsetOf<JitState>(nameof(JitState.CallbackLevel)));
        Assert.Equal(JitState.RegionDeltasOffset, (int)Marshal.OffsetOf<JitState>(nameof(JitState.RegionDeltas)));
        Assert.Equal(JitLoop.Size, Marshal.SizeOf<JitLoop>());
        Assert.Equal(JitLoop.ChargeOffset, (int)Marshal.OffsetOf<JitLoop>(nameof(JitLoop.Charge)));
    }
}
