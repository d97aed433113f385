using Appliance.Bpf.Assembly;
using Appliance.Bpf.Helpers;
using Appliance.Bpf.Maps;
using Appliance.Bpf.Objects;
using Appliance.Bpf.Verifier;
using Appliance.Bpf.Vm;
using Xunit;

namespace Appliance.Bpf.Tests.Vm;

/// <summary>bpf_spin_lock / bpf_spin_unlock: the kernel's verifier rules at load, the same rules at run time,
/// and real mutual exclusion between VMs on several threads.</summary>
public sealed class SpinLockTests
{
    // Value: [0] struct bpf_spin_lock, [8] u64 a, [16] u64 b.
    private static ArrayMap LockedArray() =>
        new(new BpfMapDefinition("locked", BpfMapType.Array, 4, 24, 1) { SpinLockOffset = 0 });

    private const string Lookup = "stw [%r10-4], 0\nmov %r2, %r10\nadd %r2, -4\nlddw %r1, map[0]\ncall 1\njeq %r0, 0, +{0}\nmov %r6, %r0\n";

    private static BpfVerifierException Reject(string assembly) =>
        Assert.Throws<BpfVerifierException>(() =>
            BpfVerifier.Verify(new BpfProgramImage("p", "tc", BpfAssembler.Assemble(assembly)), 1, LinuxHelperTable.Instance));

    [Fact]
    public void TheVerifierRefusesWhatTheKernelRefuses()
    {
        Assert.Contains("bpf_spin_unlock is missing",
            Reject("mov %r1, %r10\nadd %r1, -8\ncall 93\nmov %r0, 0\nexit").Message);
        Assert.Contains("Locking two bpf_spin_locks are not allowed",
            Reject("mov %r1, %r10\nadd %r1, -8\ncall 93\nmov %r1, %r10\nadd %r1, -8\ncall 93\ncall 94\nmov %r0, 0\nexit").Message);
        Assert.Contains("function calls are not allowed while holding a lock",
            Reject("mov %r1, %r10\nadd %r1, -8\ncall 93\ncall 7\nmov %r1, %r10\nadd %r1, -8\ncall 94\nmov %r0, 0\nexit").Message);
        Assert.Contains("bpf_spin_unlock without taking a lock",
            Reject("mov %r1, %r10\nadd %r1, -8\ncall 94\nmov %r0, 0\nexit").Message);
    }

    private const string Increment = """
        mov %r1, %r6
        call 93
        ldxdw %r1, [%r6+8]
        add %r1, 1
        stxdw [%r6+8], %r1
        ldxdw %r1, [%r6+16]
        add %r1, 1
        stxdw [%r6+16], %r1
        mov %r1, %r6
        call 94
        mov %r0, 0
        exit
        """;

    [Fact]
    public void ALockOnlyTakesTheLockMemberOfAValueWithOne()
    {
        var map = LockedArray();
        Assert.Equal(BpfFault.None, VmTestSupport.Run(string.Format(Lookup, 12) + Increment, null, map).Fault);
        // The lock word is free again and the fields moved together.
        Assert.True(map.TryLookup(new byte[4], out var v));
        Assert.Equal(0, BitConverter.ToInt32(v.AsSpan(0)));
        Assert.Equal(1UL, BitConverter.ToUInt64(v.AsSpan(8)));
        // Not the lock member (offset 8): the kernel's verifier would refuse it; here the run faults.
        Assert.Equal(BpfFault.HelperMisuse, VmTestSupport.Run(string.Format(Lookup, 4) + "mov %r1, %r6\nadd %r1, 8\ncall 93\nmov %r0, 0\nexit", null, map).Fault);
        // A stack address is no lock either.
        Assert.Equal(BpfFault.HelperMisuse, VmTestSupport.Run("stdw [%r10-8], 0\nmov %r1, %r10\nadd %r1, -8\ncall 93\nmov %r1, %r10\nadd %r1, -8\ncall 94\nmov %r0, 0\nexit").Fault);
    }

    [Fact]
    public void ARunThatEndsHoldingTheLockFaultsAndReleasesIt()
    {
        var map = LockedArray();
        // Unlock skipped on a path the verifier cannot decide (r0 from the map value).
        var r = VmTestSupport.Run(string.Format(Lookup, 7) + "mov %r1, %r6\ncall 93\nldxdw %r7, [%r6+8]\njeq %r7, 0, +2\nmov %r1, %r6\ncall 94\nmov %r0, 0\nexit", null, map);
        Assert.Equal(BpfFault.HelperMisuse, r.Fault);
        Assert.True(map.TryLookup(new byte[4], out var v));
        Assert.Equal(0, BitConverter.ToInt32(v.AsSpan(0)));
    }

    [Fact]
    public void ConcurrentRunsOnSeveralThreadsNeverLoseAnUpdate()
    {
        var map = LockedArray();
        var program = VmTestSupport.Load(string.Format(Lookup, 12) + Increment, map);
        const int Threads = 4, Runs = 20_000;
        int faults = 0;
        var workers = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            using var vm = new BpfVm(new BpfVmOptions { ProcessorId = (uint)t });
            var packet = VmTestSupport.Packet(new byte[64]);
            for (int i = 0; i < Runs; i++)
                if (vm.Run(program, ref packet).Faulted) Interlocked.Increment(ref faults);
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        Assert.Equal(0, faults);
        Assert.True(map.TryLookup(new byte[4], out var v));
        Assert.Equal((ulong)(Threads * Runs), BitConverter.ToUInt64(v.AsSpan(8)));
        Assert.Equal((ulong)(Threads * Runs), BitConverter.ToUInt64(v.AsSpan(16)));
    }

    [Fact]
    public void TheLoaderReadsTheLockOffsetFromTheValuesBtf()
    {
        var obj = Elf.TestObjects.LoadTestProgram("spin_lock_maps");
        Assert.Equal(8, obj.Maps.Single(m => m.Name == "locked_hash").SpinLockOffset);
        Assert.Equal(-1, obj.Maps.Single(m => m.Name == "plain").SpinLockOffset);
    }
}

/// <summary>bpf_map_update_elem on a value with a lock leaves the lock word alone, as the kernel's copy_map_value.</summary>
public sealed class SpinLockUpdateTests
{
    [Fact]
    public void AnUpdateNeverWritesTheLockWord()
    {
        var map = new ArrayMap(new BpfMapDefinition("locked", BpfMapType.Array, 4, 24, 1) { SpinLockOffset = 0 });
        // The program's value has 0xdead in the lock field and 5, 6 in the counters.
        var r = VmTestSupport.Run("""
            stw [%r10-4], 0
            stw [%r10-32], 0xdead
            stw [%r10-28], 0
            stdw [%r10-24], 5
            stdw [%r10-16], 6
            lddw %r1, map[0]
            mov %r2, %r10
            add %r2, -4
            mov %r3, %r10
            add %r3, -32
            mov %r4, 0
            call 2
            exit
            """, null, map);
        Assert.Equal(0UL, r.R0);
        Assert.True(map.TryLookup(new byte[4], out var v));
        Assert.Equal(0, BitConverter.ToInt32(v.AsSpan(0)));
        Assert.Equal(5UL, BitConverter.ToUInt64(v.AsSpan(8)));
        Assert.Equal(6UL, BitConverter.ToUInt64(v.AsSpan(16)));
    }
}
