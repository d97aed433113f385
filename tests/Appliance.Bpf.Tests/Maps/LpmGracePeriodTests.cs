using Appliance.Bpf.Maps;
using Appliance.Bpf.Tests.Vm;
using Appliance.Bpf.Vm;
using Xunit;

namespace Appliance.Bpf.Tests.Maps;

/// <summary>A deleted LPM prefix's slot is not handed to another key while a program run that looked it up is still
/// going (the kernel frees trie nodes after an RCU grace period): inserts take other slots, or get -ENOSPC when
/// only slots in their grace period are left; once the run ended the slots are reused. Both engines. Grace periods
/// are the process's (any VM's run counts), so these run alone (<see cref="GracePeriodCollection"/>).</summary>
[Collection(GracePeriodCollection.Name)]
public sealed class LpmGracePeriodTests
{
    /// <summary>Looks up 10.0.0.1/32 in LPM map 0, sets word 0 of control array map 1's element 0 ("held"), then reads
    /// the value until the control's word 1 ("stop") is set or the value is no longer 42; returns the value it read
    /// last (0xdead when a lookup found nothing).</summary>
    private const string HoldValue = """
        stw [%r10-8], 32
        stw [%r10-4], 0x0100000a
        lddw %r1, map[0]
        mov %r2, %r10
        add %r2, -8
        call 1
        jeq %r0, 0, null
        mov %r6, %r0
        stw [%r10-12], 0
        lddw %r1, map[1]
        mov %r2, %r10
        add %r2, -12
        call 1
        jeq %r0, 0, null
        mov %r7, %r0
        mov %r1, 1
        stxw [%r7+0], %r1
        loop:
        ldxw %r1, [%r7+4]
        jne %r1, 0, out
        ldxw %r0, [%r6+0]
        jne %r0, 42, out
        ja loop
        out:
        ldxw %r0, [%r6+0]
        exit
        null:
        mov %r0, 0xdead
        exit
        """;

    private const int MaxEntries = 2;

    private static LpmTrieMap Lpm() => (LpmTrieMap)BpfMap.Create(
        new BpfMapDefinition("acl", BpfMapType.LpmTrie, 8, 4, MaxEntries, BpfUpdateFlags.NoPreallocMapFlag));

    private static byte[] Key(uint address) => [32, 0, 0, 0, (byte)(address >> 24), (byte)(address >> 16), (byte)(address >> 8), (byte)address];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ASlotDeletedWhileARunHoldsItIsNotReusedUntilTheRunEnded(bool jit)
    {
        var lpm = Lpm();
        var control = BpfMap.Create(new BpfMapDefinition("control", BpfMapType.Array, 4, 8, 1));
        var held = Key(0x0A000001);
        Assert.Equal(0, lpm.Update(held, BitConverter.GetBytes(42u), 0));
        var program = VmTestSupport.LoadFor(HoldValue, jit, lpm, control);

        BpfRunResult result = default;
        var runner = new Thread(() =>
        {
            using var vm = new BpfVm(new BpfVmOptions { UseJit = jit, InstructionBudget = long.MaxValue / 2 });
            result = VmTestSupport.RunOnZeroFrame(vm, program);
        }) { IsBackground = true };
        runner.Start();
        var results = new List<int>();
        try
        {
            // Once the program holds 10.0.0.1's value: delete it, then insert and delete other prefixes. With it,
            // every other slot (max_entries live + max_entries spare) is taken once and waits for its grace period.
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (VmTestSupport.UserValue(control, [0, 0, 0, 0]) == 0)
            {
                Assert.True(DateTime.UtcNow < deadline, "the program never reported that it holds the value");
                Thread.Yield();
            }
            Assert.Equal(0, lpm.Delete(held));
            for (uint k = 0; k < 8; k++)
            {
                var other = Key(0x0B000000 + k);
                int r = lpm.Update(other, BitConverter.GetBytes(1000 + k), 0);
                results.Add(r);
                if (r == 0) Assert.Equal(0, lpm.Delete(other));
            }
        }
        finally
        {
            Assert.True(control.UpdateFromUser([0, 0, 0, 0], BitConverter.GetBytes(1UL << 32), 0) == 0);
            runner.Join();
        }
        Assert.Equal(BpfFault.None, result.Fault);
        Assert.Equal(42UL, result.R0); // its value never became another key's
        int spare = 2 * MaxEntries - 1; // every slot but the held one
        Assert.Equal(Enumerable.Repeat(0, spare).Concat(Enumerable.Repeat(-Errno.ENOSPC, 8 - spare)), results);

        // The run ended: its slot and the others are free again.
        for (uint k = 0; k < 4 * MaxEntries; k++)
        {
            Assert.Equal(0, lpm.Update(Key(0x0C000000 + k), BitConverter.GetBytes(k), 0));
            Assert.Equal(0, lpm.Delete(Key(0x0C000000 + k)));
        }
    }

    /// <summary>Each run deletes 10.0.0.1/32 and inserts it again (the same key, another slot each time): a slot a
    /// run deleted is free again for the runs after it, so every insert succeeds, run after run.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AProgramThatDeletesAndInsertsInEachRunNeverFindsTheMapFull(bool jit)
    {
        const string Churn = """
            stw [%r10-8], 32
            stw [%r10-4], 0x0100000a
            stw [%r10-12], 7
            lddw %r1, map[0]
            mov %r2, %r10
            add %r2, -8
            call 3
            lddw %r1, map[0]
            mov %r2, %r10
            add %r2, -8
            mov %r3, %r10
            add %r3, -12
            mov %r4, 0
            call 2
            exit
            """;
        var lpm = Lpm();
        Assert.Equal(0, lpm.Update(Key(0x0A000001), BitConverter.GetBytes(7u), 0));
        var program = VmTestSupport.LoadFor(Churn, jit, lpm);
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        for (int run = 0; run < 100; run++)
        {
            var r = VmTestSupport.RunOnZeroFrame(vm, program);
            Assert.Equal((BpfFault.None, 0UL), (r.Fault, r.R0)); // the update's result
        }
        Assert.Equal(1, lpm.Count);
    }

    [Fact]
    public void WithoutARunningProgramDeletedSlotsAreReusedAndTheMapNeverFillsUp()
    {
        var lpm = Lpm();
        using var idle = new BpfVm(); // a VM that is not running holds nothing
        for (uint k = 0; k < 1000; k++)
        {
            Assert.Equal(0, lpm.Update(Key(k), BitConverter.GetBytes(k), 0));
            Assert.Equal(0, lpm.Update(Key(k + 5000), BitConverter.GetBytes(k), 0));
            Assert.Equal(-Errno.ENOSPC, lpm.Update(Key(k + 9000), BitConverter.GetBytes(k), 0)); // max_entries live
            Assert.Equal(0, lpm.Delete(Key(k)));
            Assert.Equal(0, lpm.Delete(Key(k + 5000)));
        }
        Assert.Equal(0, lpm.Count);
    }
}
