using Appliance.Bpf.Helpers;
using Appliance.Bpf.Maps;
using Appliance.Bpf.Objects;
using Appliance.Bpf.Tests.Elf;
using Appliance.Bpf.Tests.Vm;
using Appliance.Bpf.Vm;
using Xunit;
using Xunit.Abstractions;

namespace Appliance.Bpf.Tests.Jit;

/// <summary>The verifier's pointer ranges take the run-time bounds checks out of compiled code where they prove
/// an access in bounds, and only there (<see cref="LoadedProgram.JitCheckedAccesses"/>: accesses compiled with
/// the check). The hostile programs that fault on both engines are in <see cref="HostileProgramCases"/>.</summary>
public sealed class ProvenAccessTests(ITestOutputHelper output)
{
    /// <summary>Every example program in programs/ (clang -O2 -mcpu=v3).</summary>
    public static TheoryData<string> Examples()
    {
        var names = new TheoryData<string>();
        foreach (var source in Directory.GetFiles(Path.Combine(TestObjects.RepoRoot, "programs"), "*.bpf.c"))
            names.Add(Path.GetFileName(source)[..^".bpf.c".Length]);
        return names;
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void ExampleProgramsRunWithoutRunTimeBoundsChecks(string example)
    {
        var obj = TestObjects.LoadExample(example);
        var maps = obj.Maps.Select(d => BpfMap.Create(d)).ToArray();
        foreach (var program in LoadedProgram.LoadAll(obj, maps, LinuxHelperTable.Instance))
        {
            output.WriteLine($"{example}/{program.Name}: {program.ProvenAccesses} accesses proven, {program.JitCheckedAccesses} checked");
            Assert.True(program.IsJitCompiled, program.JitUnavailableReason);
            Assert.True(program.ProvenAccesses > 0, $"{program.Name}: nothing proven");
            Assert.Equal(0, program.JitCheckedAccesses);
        }
    }

    [Fact]
    public void AccessesBeyondTheCheckKeepTheirCheck()
    {
        // Inside the 14 checked bytes: proven; one byte further, or through a pointer moved by an unknown amount: checked.
        Assert.Equal(0, Checks(HostileRangeCases.Checked14 + "ldxb %r0, [%r2+13]\nexit\nout:\nmov %r0, 0\nexit"));
        Assert.Equal(1, Checks(HostileRangeCases.Checked14 + "ldxb %r0, [%r2+14]\nexit\nout:\nmov %r0, 0\nexit"));
        Assert.Equal(1, Checks(HostileRangeCases.Checked14 + "ldxb %r0, [%r2+13]\nexit\nout:\nldxb %r0, [%r2+0]\nexit"));
        Assert.Equal(1, Checks(HostileRangeCases.Checked14 + "ldxb %r5, [%r2+0]\nadd %r2, %r5\nldxb %r0, [%r2+0]\nexit\nout:\nmov %r0, 0\nexit"));
        // No check at all: every packet access keeps its check.
        Assert.Equal(2, Checks(HostileRangeCases.Packet + "ldxb %r0, [%r2+0]\nldxb %r0, [%r2+1]\nexit"));
        // Every hostile range case keeps at least its faulting access checked.
        foreach (var (name, program, _, _) in HostileRangeCases.All)
            Assert.True(Checks(program) >= 1, name);
    }

    [Fact]
    public void StackAccessesThroughCopiesOfTheFramePointerAreProven()
    {
        Assert.Equal(0, Checks("mov %r2, %r10\nadd %r2, -16\nstdw [%r2+8], 7\nldxdw %r0, [%r2+8]\nexit"));
        // Past the measured frame (r10 - 16 + 16 = r10: above the frame) keeps the check.
        Assert.Equal(1, Checks("mov %r2, %r10\nadd %r2, -16\nstdw [%r2+8], 7\nldxdw %r0, [%r2+16]\nexit"));
    }

    /// <summary>Proven accesses through one register in straight-line code reuse its region delta (JitLowering.RegionDelta)
    /// until the register is written: after <c>mov %r6, %r7</c> the stores through r6 land in the second element's
    /// value, not at the second pointer plus the first value's delta.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AccessesThroughARegisterMovedToAnotherValueLandInThatValue(bool jit)
    {
        var values = BpfMap.Create(new BpfMapDefinition("values", BpfMapType.Array, 4, 16, 2));
        var program = VmTestSupport.Load("""
            stw [%r10-4], 0
            lddw %r1, map[0]
            mov %r2, %r10
            add %r2, -4
            call 1
            jeq %r0, 0, out
            mov %r6, %r0
            stw [%r10-4], 1
            lddw %r1, map[0]
            mov %r2, %r10
            add %r2, -4
            call 1
            jeq %r0, 0, out
            mov %r7, %r0
            stdw [%r6+0], 11
            stdw [%r6+8], 12
            ldxdw %r0, [%r6+0]
            mov %r6, %r7
            stdw [%r6+0], 21
            stdw [%r6+8], 22
            ldxdw %r1, [%r6+8]
            add %r0, %r1
            exit
            out:
            mov %r0, 1
            exit
            """, values);
        Assert.True(program.IsJitCompiled, program.JitUnavailableReason);
        Assert.Equal(0, program.JitCheckedAccesses);
        var packet = VmTestSupport.Packet(new byte[64]);
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        var r = vm.Run(program, ref packet);
        Assert.Equal((BpfFault.None, 33UL), (r.Fault, r.R0));
        foreach (var (key, first, second) in new[] { (0, 11UL, 12UL), (1, 21UL, 22UL) })
        {
            var value = new byte[16];
            Assert.True(values.TryLookupFromUser(BitConverter.GetBytes(key), value));
            Assert.Equal((first, second), (BitConverter.ToUInt64(value, 0), BitConverter.ToUInt64(value, 8)));
        }
    }

    /// <summary>Compiled code keeps a lookup result's region delta for the proven accesses through r0 right after it
    /// (JitLowering's ElementRegion, and the helper path after its call): a first lookup of a key (a new region), a second
    /// (the cached region), in a hash the code looks up itself and in an LRU hash the helper looks up. Every access lands
    /// in the element: 10 + 5 + 100.</summary>
    [Theory]
    [InlineData(false, 0)]
    [InlineData(false, 1)]
    [InlineData(true, 0)]
    [InlineData(true, 1)]
    public void AccessesThroughALookupResultLandInItsElement(bool jit, int map)
    {
        var hash = BpfMap.Create(new BpfMapDefinition("hash", BpfMapType.Hash, 4, 8, 8));
        var lru = BpfMap.Create(new BpfMapDefinition("lru", BpfMapType.LruHash, 4, 8, 8));
        foreach (var m in new[] { hash, lru }) Assert.Equal(0, m.UpdateFromUser(BitConverter.GetBytes(1), BitConverter.GetBytes(10UL), 0));
        string lookup = $"stw [%r10-4], 1\nlddw %r1, map[{map}]\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, out\n";
        var program = VmTestSupport.Load(lookup + """
            ldxdw %r1, [%r0+0]
            add %r1, 5
            stxdw [%r0+0], %r1
            mov %r6, %r0

            """ + lookup + """
            ldxdw %r1, [%r0+0]
            add %r1, 100
            stxdw [%r0+0], %r1
            ldxdw %r0, [%r6+0]
            exit
            out:
            mov %r0, 0xdead
            exit
            """, hash, lru);
        Assert.True(program.IsJitCompiled, program.JitUnavailableReason);
        var packet = VmTestSupport.Packet(new byte[64]);
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        var r = vm.Run(program, ref packet);
        Assert.Equal((BpfFault.None, 115UL), (r.Fault, r.R0));
        Assert.Equal(115UL, VmTestSupport.UserValue(map == 0 ? hash : lru, BitConverter.GetBytes(1)));
    }

    private static int Checks(string assembly)
    {
        var values = BpfMap.Create(new BpfMapDefinition("values", BpfMapType.Array, 4, 8, 1));
        var program = VmTestSupport.Load(assembly, values);
        Assert.True(program.IsJitCompiled, program.JitUnavailableReason);
        return program.JitCheckedAccesses;
    }
}
