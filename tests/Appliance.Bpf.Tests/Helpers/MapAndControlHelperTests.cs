using Appliance.Bpf.Maps;
using Appliance.Bpf.Context;
using Appliance.Bpf.Tests.Vm;
using Appliance.Bpf.Vm;
using Xunit;

namespace Appliance.Bpf.Tests.Helpers;

/// <summary>Map helpers on the abstract map, redirect, tail calls, ring buffer, trace_printk and the small
/// system helpers, each through a program.</summary>
public sealed class MapAndControlHelperTests
{
    private const string CountProgram = """
        stw [%r10-4], 0
        mov %r2, %r10
        add %r2, -4
        lddw %r1, map[0]
        call 1
        jeq %r0, 0, out
        mov %r1, 1
        lock add [%r0+0], %r1
        out:
        mov %r0, 0
        exit
        """;

    [Fact]
    public void LookupHandsOutTheValueInPlace()
    {
        var map = TestArrayMap.Create(8);
        var program = VmTestSupport.Load(CountProgram, map);
        using var vm = new BpfVm();
        var packet = VmTestSupport.Packet(new byte[64]);
        for (int i = 0; i < 3; i++) Assert.Equal(BpfFault.None, vm.Run(program, ref packet).Fault);
        Assert.Equal(3UL, map.ReadU64(0));
    }

    [Fact]
    public void LookupOfAMissingKeyReturnsNull()
    {
        var map = TestArrayMap.Create(8);
        var r = VmTestSupport.Run("stw [%r10-4], 5\nmov %r2, %r10\nadd %r2, -4\nlddw %r1, map[0]\ncall 1\nexit", null, map);
        Assert.Equal(0UL, r.R0);
    }

    [Fact]
    public void UpdateAndItsErrorsFollowTheMap()
    {
        var map = TestArrayMap.Create(8, entries: 2);
        const string update = """
            stdw [%r10-16], 77
            stw [%r10-4], 1
            mov %r2, %r10
            add %r2, -4
            mov %r3, %r10
            add %r3, -16
            mov %r4, FLAGS
            lddw %r1, map[0]
            call 2
            exit
            """;
        Assert.Equal(0UL, VmTestSupport.Run(update.Replace("FLAGS", "0"), null, map).R0);
        Assert.Equal(77UL, map.ReadU64(1));
        Assert.Equal(-17L, (long)VmTestSupport.Run(update.Replace("FLAGS", "1"), null, map).R0);
        // A key pointer outside memory is a fault, not a crash.
        var bad = VmTestSupport.Run("mov %r2, 16\nlddw %r1, map[0]\ncall 1\nexit", null, map);
        Assert.Equal(BpfFault.OutOfBounds, bad.Fault);
        // A non-map as the map argument.
        Assert.Equal(BpfFault.HelperMisuse, VmTestSupport.Run("mov %r2, %r10\nadd %r2, -4\nstw [%r10-4], 0\nmov %r1, 1\ncall 1\nexit", null, map).Fault);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // compiled inline by the JIT
    public void RedirectRecordsTheTarget(bool jit)
    {
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        var r = VmTestSupport.RunOnZeroFrame(vm, VmTestSupport.LoadFor("lddw %r1, 0x700000005\nmov %r2, 1\ncall 23\nexit", jit));
        Assert.Equal(TcAction.Redirect, r.Verdict);
        Assert.Equal(5u, r.RedirectIfindex);
        Assert.Equal(1UL, r.RedirectFlags);
        // The last call wins; a call with flags other than BPF_F_INGRESS is TC_ACT_SHOT and changes nothing.
        var twice = VmTestSupport.RunOnZeroFrame(vm, VmTestSupport.LoadFor("mov %r1, 5\nmov %r2, 1\ncall 23\nmov %r1, 9\nmov %r2, 0\ncall 23\nmov %r1, 11\nmov %r2, 3\ncall 23\nexit", jit));
        Assert.Equal(TcAction.Shot, twice.Verdict);
        Assert.Equal(9u, twice.RedirectIfindex);
        Assert.Equal(0UL, twice.RedirectFlags);
        // The next run starts without a redirect.
        var bad = VmTestSupport.RunOnZeroFrame(vm, VmTestSupport.LoadFor("mov %r1, 5\nmov %r2, 2\ncall 23\nexit", jit));
        Assert.Equal(TcAction.Shot, bad.Verdict);
        Assert.Equal(0u, bad.RedirectIfindex);
    }

    [Fact]
    public void TailCallEntersTheTargetWithTheSameContext()
    {
        var jmp = new TestProgArray();
        jmp.Slots[3] = 0;
        var target = VmTestSupport.Load("ldxw %r0, [%r1+0]\nadd %r0, 1000\nexit");
        var caller = VmTestSupport.Load("mov %r6, %r1\nlddw %r2, map[0]\nmov %r3, IDX\ncall 12\nmov %r0, 1\nexit".Replace("IDX", "3"), jmp);
        caller.TailCallTargets = [target];
        var packet = VmTestSupport.Packet(new byte[64]);
        Assert.Equal(1064UL, VmTestSupport.Run(caller, ref packet).R0);
        // An empty slot: the call fails and the caller continues.
        var missing = VmTestSupport.Load("lddw %r2, map[0]\nmov %r3, 2\ncall 12\nmov %r0, 1\nexit", jmp);
        missing.TailCallTargets = [target];
        Assert.Equal(1UL, VmTestSupport.Run(missing, ref packet).R0);
        // A program tail-calling itself stops after 33 tail calls and then falls through.
        var self = VmTestSupport.Load("ldxw %r0, [%r1+48]\nadd %r0, 1\nstxw [%r1+48], %r0\nlddw %r2, map[0]\nmov %r3, 3\ncall 12\nmov %r0, 0\nexit", jmp);
        self.TailCallTargets = [self];
        var loop = VmTestSupport.Run(self, ref packet);
        Assert.Equal(BpfFault.None, loop.Fault);
        Assert.Equal(34u, packet.Cb[0]);
    }

    [Fact]
    public void RingBufferRecordsAreSubmittedOrDiscarded()
    {
        var ring = new TestRingBuffer();
        var r = VmTestSupport.Run("""
            lddw %r1, map[0]
            mov %r2, 8
            mov %r3, 0
            call 131
            jeq %r0, 0, out
            stdw [%r0+0], 99
            mov %r1, %r0
            mov %r2, 0
            call 132
            lddw %r1, map[0]
            mov %r2, 8
            mov %r3, 0
            call 131
            out:
            mov %r0, 0
            exit
            """, null, ring);
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Single(ring.Submitted);
        Assert.Equal(99UL, BitConverter.ToUInt64(ring.Submitted[0]));
        Assert.Equal(1, ring.Discarded); // the second reservation was never submitted
        // Submitting something that is not a reservation faults.
        Assert.Equal(BpfFault.HelperMisuse, VmTestSupport.Run("mov %r1, %r10\nadd %r1, -8\nmov %r2, 0\ncall 132\nexit", null, ring).Fault);
    }

    [Fact]
    public void TracePrintkFormatsToTheSink()
    {
        var lines = new List<string>();
        var program = VmTestSupport.Load("""
            stw [%r10-8], 0x64253d78
            stb [%r10-4], 0
            mov %r1, %r10
            add %r1, -8
            mov %r2, 5
            mov %r3, -42
            call 6
            exit
            """);
        var packet = VmTestSupport.Packet(new byte[64]);
        var r = VmTestSupport.Run(program, ref packet, new BpfVmOptions { TraceSink = lines.Add });
        Assert.Equal("test: x=-42", Assert.Single(lines));
        Assert.Equal(5UL, r.R0);
    }

    [Fact]
    public void TraceVprintkFormatsItsArgumentArray()
    {
        // fmt "%d/%x/%u/%c\0" at r10-15 (12 bytes), four u64 arguments at r10-112 (room for 104 bytes in the frame,
        // as the verifier asks); r4 = their length in bytes.
        string Program(int argBytes) => $"""
            lddw %r1, 0x252f78252f642500
            stxdw [%r10-16], %r1
            lddw %r1, 0x63252f75
            stxdw [%r10-8], %r1
            stdw [%r10-112], -7
            stdw [%r10-104], 255
            stdw [%r10-96], 42
            stdw [%r10-88], 65
            mov %r1, %r10
            add %r1, -15
            mov %r2, 12
            mov %r3, %r10
            add %r3, -112
            mov %r4, {argBytes}
            call 177
            exit
            """;
        var lines = new List<string>();
        var packet = VmTestSupport.Packet(new byte[64]);
        var r = VmTestSupport.Run(VmTestSupport.Load(Program(32)), ref packet, new BpfVmOptions { TraceSink = lines.Add });
        Assert.Equal("test: -7/ff/42/A", Assert.Single(lines));
        Assert.Equal(10UL, r.R0);
        // Fewer arguments than the format asks for, a length that is not whole u64s, and more than 12: -EINVAL.
        foreach (int bytes in new[] { 24, 20, 104 })
        {
            packet = VmTestSupport.Packet(new byte[64]);
            Assert.Equal(unchecked((ulong)-Errno.EINVAL), VmTestSupport.Run(VmTestSupport.Load(Program(bytes)), ref packet).R0);
        }
    }

    [Fact]
    public void ProcessorIdIsThePerCpuSlotTheProgramsMapsUse()
    {
        var counts = new PercpuArrayMap(new BpfMapDefinition("counts", BpfMapType.PercpuArray, 4, 8, 1), cpuCount: 2);
        var program = VmTestSupport.Load("""
            stw [%r10-4], 0
            mov %r2, %r10
            add %r2, -4
            lddw %r1, map[0]
            call 1
            jeq %r0, 0, out
            mov %r1, 5
            stxdw [%r0+0], %r1
            out:
            call 8
            exit
            """, counts);
        var packet = VmTestSupport.Packet(new byte[64]);
        Assert.Equal(1UL, VmTestSupport.Run(program, ref packet, new BpfVmOptions { ProcessorId = 1 }).R0);
        var perCpu = new byte[16];
        Assert.True(counts.TryLookupFromUser(new byte[4], perCpu));
        Assert.Equal(0UL, BitConverter.ToUInt64(perCpu, 0)); // CPU 0 untouched
        Assert.Equal(5UL, BitConverter.ToUInt64(perCpu, 8)); // the slot get_smp_processor_id named
    }

    [Fact]
    public void PerfEventOutputRecordsGoToTheTraceLog()
    {
        var events = BpfMap.Create(new BpfMapDefinition("events", BpfMapType.PerfEventArray, 4, 4, 2));
        var lines = new List<string>();
        var program = VmTestSupport.Load("""
            stw [%r10-4], 0x11223344
            lddw %r2, map[0]
            lddw %r3, 0x400000000
            or %r3, 1
            mov %r4, %r10
            add %r4, -4
            mov %r5, 4
            call 25
            exit
            """, events);
        var packet = VmTestSupport.Packet(VmTestSupport.Ipv4UdpFrame());
        Assert.Equal(0UL, VmTestSupport.Run(program, ref packet, new BpfVmOptions { TraceSink = lines.Add }).R0);
        Assert.Equal("test: perf_event_output cpu 1: 44332211 + 4 packet bytes " + Convert.ToHexString(VmTestSupport.Ipv4UdpFrame()[..4]), Assert.Single(lines));
    }

    [Fact]
    public void SystemHelpersAnswer()
    {
        var program = VmTestSupport.Load("call 8\nexit");
        var packet = VmTestSupport.Packet(new byte[64]);
        Assert.Equal(3UL, VmTestSupport.Run(program, ref packet, new BpfVmOptions { ProcessorId = 3 }).R0);
        ulong t1 = VmTestSupport.Run("call 5\nexit").R0, t2 = VmTestSupport.Run("call 5\nexit").R0;
        Assert.True(t1 > 0 && t2 >= t1);
        var randoms = Enumerable.Range(0, 8).Select(_ => VmTestSupport.Run("call 7\nexit").R0).ToHashSet();
        Assert.True(randoms.Count > 1);
        Assert.All(randoms, v => Assert.True(v <= uint.MaxValue));
    }
}

/// <summary>Loading a whole object binds its programs as each other's tail-call targets.</summary>
public sealed class LoadAllTests
{
    [Fact]
    public void ProgramsOfAnObjectAreEachOthersTailCallTargets()
    {
        var jmp = new TestProgArray();
        jmp.Slots[0] = 1;
        var obj = new Appliance.Bpf.Objects.BpfObject("o.bpf.o",
        [
            new("main", "tc", Appliance.Bpf.Assembly.BpfAssembler.Assemble("lddw %r2, map[0]\nmov %r3, 0\ncall 12\nmov %r0, 1\nexit")),
            new("second", "tc", Appliance.Bpf.Assembly.BpfAssembler.Assemble("mov %r0, 42\nexit")),
        ], [jmp.Definition], "GPL");
        var programs = LoadedProgram.LoadAll(obj, [jmp], Appliance.Bpf.Helpers.LinuxHelperTable.Instance);
        var packet = VmTestSupport.Packet(new byte[64]);
        Assert.Equal(42UL, VmTestSupport.Run(programs[0], ref packet).R0);
    }
}

/// <summary>Per-run bookkeeping of exposed memory stays bounded and correct.</summary>
public sealed class RunBookkeepingTests
{
    [Fact]
    public void ManyLookupsOfAWorkingSetKeepSucceeding()
    {
        var map = TestArrayMap.Create(8, entries: 64);
        // 80,000 lookups cycling over 64 keys: more than the run's 65,536 regions if each lookup took one; each found value gets +1.
        var r = VmTestSupport.Run(VmTestSupport.CyclingLookups(64, 80_000), null, map);
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal(80_000UL, r.R0);
        for (int i = 0; i < 64; i++) Assert.Equal(1250UL, map.ReadU64(i));
    }

    [Fact]
    public void ATailCallDiscardsTheCallersReservations()
    {
        var ring = new TestRingBuffer();
        var jmp = new TestProgArray();
        jmp.Slots[0] = 0;
        var globals = TestArrayMap.Create(8, initial: BitConverter.GetBytes(5UL));
        var target = VmTestSupport.Load("lddw %r2, map_value[2]+0\nldxdw %r0, [%r2+0]\nexit", ring, jmp, globals);
        var caller = VmTestSupport.Load("""
            mov %r6, %r1
            lddw %r1, map[0]
            mov %r2, 8
            mov %r3, 0
            call 131
            mov %r1, %r6
            lddw %r2, map[1]
            mov %r3, 0
            call 12
            mov %r0, 1
            exit
            """, ring, jmp, globals);
        caller.TailCallTargets = [target];
        var packet = VmTestSupport.Packet(new byte[64]);
        var r = VmTestSupport.Run(caller, ref packet);
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal(5UL, r.R0);
        Assert.Equal(1, ring.Discarded);
    }
}
