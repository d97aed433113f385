using Appliance.Bpf.Maps;
using Appliance.Bpf.Tests.Vm;
using Appliance.Bpf.Verifier;
using Appliance.Bpf.Vm;
using Xunit;

namespace Appliance.Bpf.Tests.Jit;

/// <summary>bpf_map_lookup_elem on array and per-CPU array maps, which the JIT compiles inline (no helper call):
/// the same results as the interpreter's helper for keys in range, past the end, per-CPU slots, values changed
/// from user space between runs, accesses past the element, read-only maps, and the element's pointer handed on
/// to a helper. Each case runs on both engines.</summary>
public sealed class InlineArrayLookupTests
{
    private static ArrayMap Array(int entries = 4, bool readOnly = false) =>
        (ArrayMap)BpfMap.Create(new BpfMapDefinition("values", BpfMapType.Array, 4, 8, entries, readOnly ? BpfMapFlags.ReadOnlyProg : 0));

    private static byte[] Key(uint k) => BitConverter.GetBytes(k);

    /// <summary>Looks up <paramref name="key"/>; adds 1 to the 8-byte value and returns it, or returns 0xdead for NULL.</summary>
    private static string Increment(uint key) => $"""
        stw [%r10-4], {unchecked((int)key)}
        lddw %r1, map[0]
        mov %r2, %r10
        add %r2, -4
        call 1
        jeq %r0, 0, null
        ldxdw %r1, [%r0+0]
        add %r1, 1
        stxdw [%r0+0], %r1
        mov %r0, %r1
        exit
        null:
        mov %r0, 0xdead
        exit
        """;

    /// <summary>Looks up <paramref name="key"/>, then each of <paramref name="others"/>, then <paramref name="key"/>
    /// again: r0 = 1 when the first and the last lookup found the same (non-NULL) address, else 0.</summary>
    private static string SameAddressAfter(int key, IEnumerable<int> others)
    {
        var text = new System.Text.StringBuilder();
        void Lookup(int k) => text.Append($"stw [%r10-4], {k}\nlddw %r1, map[0]\nmov %r2, %r10\nadd %r2, -4\ncall 1\n");
        Lookup(key);
        text.Append("mov %r6, %r0\n");
        foreach (int k in others) Lookup(k);
        Lookup(key);
        text.Append("mov %r1, %r0\nmov %r0, 0\njeq %r6, 0, out\njne %r1, %r6, out\nmov %r0, 1\nout:\nexit\n");
        return text.ToString();
    }

    private static LoadedProgram Load(string text, bool jit, params BpfMap[] maps) => VmTestSupport.LoadFor(text, jit, maps);

    private static BpfRunResult Run(BpfVm vm, LoadedProgram program) => VmTestSupport.RunOnZeroFrame(vm, program);

    private static ulong Value(BpfMap map, uint key, int cpu = 0) => VmTestSupport.UserValue(map, Key(key), cpu);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AnElementInRangeIsReadAndWrittenInPlace(bool jit)
    {
        var map = Array();
        Assert.Equal(0, map.UpdateFromUser(Key(2), BitConverter.GetBytes(41UL), 0));
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        var r = Run(vm, Load(Increment(2), jit, map));
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal(42UL, r.R0);
        Assert.Equal(42UL, Value(map, 2));
        Assert.Equal(0UL, Value(map, 1));
        Assert.Equal(0UL, Value(map, 3));
    }

    [Theory]
    [InlineData(false, 4u)]
    [InlineData(true, 4u)]
    [InlineData(false, 0xFFFFFFFFu)]
    [InlineData(true, 0xFFFFFFFFu)]
    public void AKeyPastTheEndFindsNothing(bool jit, uint key)
    {
        var map = Array();
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        var r = Run(vm, Load(Increment(key), jit, map));
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal(0xdeadUL, r.R0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void APerCpuLookupUsesTheSlotOfTheVmsProcessor(bool jit)
    {
        var map = new PercpuArrayMap(new BpfMapDefinition("percpu", BpfMapType.PercpuArray, 4, 8, 2), cpuCount: 3);
        var program = Load(Increment(1), jit, map);
        using (var vm = new BpfVm(new BpfVmOptions { UseJit = jit, ProcessorId = 2 }))
        {
            Assert.Equal(1UL, Run(vm, program).R0);
            Assert.Equal(2UL, Run(vm, program).R0);
        }
        using (var vm = new BpfVm(new BpfVmOptions { UseJit = jit, ProcessorId = 0 }))
            Assert.Equal(1UL, Run(vm, program).R0);
        Assert.Equal(1UL, Value(map, 1, cpu: 0));
        Assert.Equal(0UL, Value(map, 1, cpu: 1));
        Assert.Equal(2UL, Value(map, 1, cpu: 2));
        Assert.Equal(0UL, Value(map, 0, cpu: 2));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AValueUserSpaceChangedBetweenRunsIsWhatTheNextRunFinds(bool jit)
    {
        var map = Array();
        var program = Load(Increment(0), jit, map);
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        Assert.Equal(1UL, Run(vm, program).R0);
        Assert.Equal(0, map.UpdateFromUser(Key(0), BitConverter.GetBytes(100UL), 0));  // as `map update` from the CLI does
        Assert.Equal(101UL, Run(vm, program).R0);
        Assert.Equal(101UL, Value(map, 0));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AnAccessPastTheElementFaults(bool jit)
    {
        // The element is 8 bytes; the next one is right behind it in the map's memory, but not the program's.
        var map = Array();
        Assert.Equal(0, map.UpdateFromUser(Key(1), BitConverter.GetBytes(7UL), 0));
        string text = "stw [%r10-4], 0\nlddw %r1, map[0]\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, out\nldxdw %r0, [%r0+8]\nout:\nexit";
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        var r = Run(vm, Load(text, jit, map));
        Assert.Equal(BpfFault.OutOfBounds, r.Fault);
        Assert.Equal(7, r.FaultInstruction);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AReadOnlyMapsElementCannotBeWritten(bool jit)
    {
        var map = Array(readOnly: true);
        Assert.Contains("write into map forbidden", Assert.Throws<BpfVerifierException>(() => Load(Increment(0), jit, map)).Message);
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        var r = Run(vm, Load(VmTestSupport.WithR0Unplaced(Increment(0)), jit, map));
        Assert.Equal(BpfFault.ReadOnlyWrite, r.Fault);
        Assert.Equal(0UL, Value(map, 0));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TwoLookupsOfOneElementGiveOneAddress(bool jit)
    {
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        Assert.Equal(1UL, Run(vm, Load(SameAddressAfter(3, []), jit, Array())).R0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AnElementLookedUpAgainAfterNineOthersHasItsFirstAddress(bool jit)
    {
        // Element 0, then elements 1..9 (more than a short search of recent regions covers), then element 0
        // again: the kernel's pointer is the same, and so is the interpreter's.
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        Assert.Equal(1UL, Run(vm, Load(SameAddressAfter(0, Enumerable.Range(1, 9)), jit, Array(entries: 16))).R0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ManyLookupsCyclingOverMoreElementsThanTheRecentSearchKeepSucceeding(bool jit)
    {
        // 70,400 lookups cycling over 16 elements: more than the run's 65,536 regions if each lookup took one.
        var map = Array(entries: 16);
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        var r = Run(vm, Load(VmTestSupport.CyclingLookups(16, 70_400), jit, map));
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal(70_400UL, r.R0);
        for (uint k = 0; k < 16; k++) Assert.Equal(4400UL, Value(map, k));
    }

    [Fact]
    public void WhenTheRegionTableIsFullBothEnginesFindNothingAtTheSameLookup()
    {
        // 70,000 lookups of distinct elements: each takes a region until the run's 65,536 are used up, then
        // lookups find NULL (the helper's answer; the JIT's inline lookup falls back to it when its mirror is
        // full). r0 = how many lookups found their element, the same on both engines and below 65,536.
        var results = new List<ulong>();
        foreach (bool jit in new[] { false, true })
        {
            var map = Array(entries: 70_000);
            string text = """
                mov %r6, 0
                mov %r7, 0
                loop:
                stxw [%r10-4], %r6
                mov %r2, %r10
                add %r2, -4
                lddw %r1, map[0]
                call 1
                jeq %r0, 0, next
                add %r7, 1
                next:
                add %r6, 1
                jlt %r6, 70000, loop
                mov %r0, %r7
                exit
                """;
            using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
            var r = Run(vm, Load(text, jit, map));
            Assert.Equal(BpfFault.None, r.Fault);
            results.Add(r.R0);
        }
        Assert.InRange(results[0], 65_000UL, (ulong)BpfVm.MaxRegions - 1);
        Assert.Equal(results[0], results[1]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TheElementsPointerWorksAsAHelperArgument(bool jit)
    {
        // Element 0 (found inline under the JIT) becomes element 1's new value through bpf_map_update_elem,
        // which reads it through the VM's region table.
        var map = Array();
        Assert.Equal(0, map.UpdateFromUser(Key(0), BitConverter.GetBytes(0x1122334455UL), 0));
        string text = """
            stw [%r10-4], 0
            stw [%r10-8], 1
            lddw %r1, map[0]
            mov %r2, %r10
            add %r2, -4
            call 1
            jeq %r0, 0, out
            mov %r3, %r0
            lddw %r1, map[0]
            mov %r2, %r10
            add %r2, -8
            mov %r4, 0
            call 2
            out:
            exit
            """;
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        var r = Run(vm, Load(text, jit, map));
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal(0UL, r.R0);
        Assert.Equal(0x1122334455UL, Value(map, 1));
    }
}
