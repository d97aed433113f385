using Appliance.Bpf.Maps;
using Appliance.Bpf.Tests.Vm;
using Appliance.Bpf.Vm;
using Xunit;

namespace Appliance.Bpf.Tests.Maps;

/// <summary>A deleted LPM prefix's slot is not handed to another key while a program run that looked it up is still
/// going (the kernel frees trie nodes after an RCU grace period): inserts take other slots, or get -ENOSPC when
/// only slots in their grace period are left; once the run ended the slots are reused. A program's insert never issues
/// the process-wide barrier a grace period needs (the grace-period thread does, when asked). Both engines. Grace
/// periods are the process's (any VM's run counts), so these run alone (<see cref="GracePeriodCollection"/>).</summary>
[Collection(GracePeriodCollection.Name)]
public sealed class LpmGracePeriodTests
{
    /// <summary>Looks up 10.0.0.1/32 in LPM map 0, sets word 0 of control array map 1's element 0 ("held"), then reads
    /// the value until the control's word 1 ("stop") is set or the value is no longer 42; returns the value it read
    /// last (0xdead when a lookup found nothing). Each turn of its wait calls ktime_get_ns, a runtime call: compiled code
    /// returns to the VM there, where a garbage collection can stop the thread. Spinning in compiled code alone (the
    /// budget here is unbounded) the run held up any collection, and the test thread that allocated with it: a hang.</summary>
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
        call 5
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

    /// <summary>Each run deletes 10.0.0.1/32 and inserts it again with value 7 (another slot each time); returns the
    /// update's result.</summary>
    private const string Churn = """
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

    private const int MaxEntries = 2;

    private static LpmTrieMap Lpm(int maxEntries = MaxEntries) => (LpmTrieMap)BpfMap.Create(
        new BpfMapDefinition("acl", BpfMapType.LpmTrie, 8, 4, maxEntries, BpfMapFlags.NoPrealloc));

    /// <summary>Runs <see cref="HoldValue"/> (10.0.0.1/32 must be in <paramref name="lpm"/>) on a VM of its own on another
    /// thread, runs <paramref name="meanwhile"/> once the program holds the value, then stops the program: its result.</summary>
    private static BpfRunResult WhileARunHolds(LpmTrieMap lpm, bool jit, Action meanwhile)
    {
        var control = BpfMap.Create(new BpfMapDefinition("control", BpfMapType.Array, 4, 8, 1));
        var program = VmTestSupport.LoadFor(HoldValue, jit, lpm, control);
        BpfRunResult result = default;
        var runner = new Thread(() =>
        {
            using var vm = new BpfVm(new BpfVmOptions { UseJit = jit, InstructionBudget = long.MaxValue / 2 });
            result = VmTestSupport.RunOnZeroFrame(vm, program);
        }) { IsBackground = true };
        runner.Start();
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (VmTestSupport.UserValue(control, [0, 0, 0, 0]) == 0)
            {
                Assert.True(DateTime.UtcNow < deadline, "the program never reported that it holds the value");
                Thread.Yield();
            }
            meanwhile();
        }
        finally
        {
            // Released before anything can throw, and waited for with a bound: a runner left spinning would hold a
            // grace period for every later test.
            int released = control.UpdateFromUser([0, 0, 0, 0], BitConverter.GetBytes(1UL << 32), 0);
            bool ended = runner.Join(TimeSpan.FromSeconds(60));
            Assert.Equal(0, released);
            Assert.True(ended, "the holding run did not end after its release");
        }
        return result;
    }

    /// <summary>Until the grace-period thread has issued the barrier asked for (a minute at most: a failure).</summary>
    private static void WaitForTheGracePeriodThread()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (RunEpochs.GracePeriodPending)
        {
            Assert.True(DateTime.UtcNow < deadline, "the grace-period thread never issued the barrier asked for");
            Thread.Sleep(1);
        }
    }

    private static byte[] Key(uint address) => [32, 0, 0, 0, (byte)(address >> 24), (byte)(address >> 16), (byte)(address >> 8), (byte)address];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ASlotDeletedWhileARunHoldsItIsNotReusedUntilTheRunEnded(bool jit)
    {
        var lpm = Lpm();
        var held = Key(0x0A000001);
        Assert.Equal(0, lpm.Update(held, BitConverter.GetBytes(42u), 0));
        var results = new List<int>();
        var result = WhileARunHolds(lpm, jit, () =>
        {
            // The program holds 10.0.0.1's value: delete it, then insert and delete other prefixes. With it, every
            // other slot (max_entries live + the spare ones) is taken once and waits for its grace period.
            Assert.Equal(0, lpm.Delete(held));
            for (uint k = 0; k < lpm.Slots.Capacity + 4; k++)
            {
                var other = Key(0x0B000000 + k);
                int r = lpm.Update(other, BitConverter.GetBytes(1000 + k), 0);
                results.Add(r);
                if (r == 0) Assert.Equal(0, lpm.Delete(other));
            }
        });
        Assert.Equal(BpfFault.None, result.Fault);
        Assert.Equal(42UL, result.R0); // its value never became another key's
        int others = lpm.Slots.Capacity - 1; // every slot but the held one
        Assert.Equal(Enumerable.Repeat(0, others).Concat(Enumerable.Repeat(-Errno.ENOSPC, 5)), results);

        // The run ended: its slot and the others are free again (a user-space update waits for their grace period).
        for (uint k = 0; k < 2 * lpm.Slots.Capacity; k++)
        {
            Assert.Equal(0, lpm.UpdateFromUser(Key(0x0C000000 + k), BitConverter.GetBytes(k), 0));
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

    /// <summary>User-space updates (maps update, a config's contents) wait for a grace period when they must.</summary>
    [Fact]
    public void WithoutARunningProgramDeletedSlotsAreReusedAndTheMapNeverFillsUp()
    {
        var lpm = Lpm();
        using var idle = new BpfVm(); // a VM that is not running holds nothing
        for (uint k = 0; k < 1000; k++)
        {
            Assert.Equal(0, lpm.UpdateFromUser(Key(k), BitConverter.GetBytes(k), 0));
            Assert.Equal(0, lpm.UpdateFromUser(Key(k + 5000), BitConverter.GetBytes(k), 0));
            Assert.Equal(-Errno.ENOSPC, lpm.UpdateFromUser(Key(k + 9000), BitConverter.GetBytes(k), 0)); // max_entries live
            Assert.Equal(0, lpm.Delete(Key(k)));
            Assert.Equal(0, lpm.Delete(Key(k + 5000)));
        }
        Assert.Equal(0, lpm.Count);
    }

    /// <summary>A program that deletes and inserts on every run of a tiny map, thousands of runs: its runs issue no
    /// process-wide barrier (the grace-period thread does), a grace period is asked for once half the spare slots are
    /// gone, the thread's barriers are few (one per spare / 2 runs, far fewer than one per 100 runs), and the map is
    /// never full (the runs wait only if the thread has not answered by the time a single free slot is left, as a
    /// thread that answers within spare / 2 runs would not make them).</summary>
    [Theory]
    [InlineData(1, false)]
    [InlineData(1, true)]
    [InlineData(2, false)]
    [InlineData(2, true)]
    [InlineData(16, false)]
    [InlineData(16, true)]
    public void AProgramChurningATinyMapIssuesNoBarrierItselfAndCostsFewBarriers(int maxEntries, bool jit)
    {
        var lpm = Lpm(maxEntries);
        Assert.Equal(0, lpm.Update(Key(0x0A000001), BitConverter.GetBytes(7u), 0));
        var program = VmTestSupport.LoadFor(Churn, jit, lpm);
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        int spare = lpm.Slots.Capacity - maxEntries;
        int runs = 10 * lpm.Slots.Capacity;
        long barriers = RunEpochs.BarriersIssued, mine = RunEpochs.BarriersIssuedByThisThread;
        for (int run = 0; run < runs; run++)
        {
            if (lpm.Slots.FreeCount <= 1) WaitForTheGracePeriodThread();
            var r = VmTestSupport.RunOnZeroFrame(vm, program);
            Assert.Equal((BpfFault.None, 0UL), (r.Fault, r.R0)); // the update's result: never -ENOSPC
            if (lpm.Slots.FreeCount < spare / 2) // asked for, or covered already
                Assert.True(Math.Max(RunEpochs.Requested, RunEpochs.Fenced) >= lpm.Slots.OldestPendingTag,
                    $"run {run}: {lpm.Slots.FreeCount} slots free and no grace period asked for");
        }
        Assert.Equal(1, lpm.Count);
        Assert.Equal(mine, RunEpochs.BarriersIssuedByThisThread); // the thread running the programs issued none
        long issued = RunEpochs.BarriersIssued - barriers;
        Assert.InRange(issued, 1, runs / 100); // at least one: runs > slots, so slots were reused
    }

    /// <summary>While another VM's run holds a slot, a churning program fills the map (-ENOSPC); once that run ended
    /// and the grace-period thread issued its barrier, the program's inserts succeed again, run after run, with no
    /// user-space call in between.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SlotsAProgramCouldNotGetComeBackAfterTheGracePeriodThreadRan(bool jit)
    {
        var lpm = Lpm(1);
        Assert.Equal(0, lpm.Update(Key(0x0A000001), BitConverter.GetBytes(42u), 0));
        var churn = VmTestSupport.LoadFor(Churn, jit, lpm);
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        long mine = RunEpochs.BarriersIssuedByThisThread;
        var results = new List<ulong>();
        var held = WhileARunHolds(lpm, jit, () =>
        {
            for (int run = 0; run < lpm.Slots.Capacity + 2; run++) results.Add(VmTestSupport.RunOnZeroFrame(vm, churn).R0);
        });
        Assert.Equal(42UL, held.R0);
        // Every slot but the held one once, then none: all wait for the holding run.
        var enospc = unchecked((ulong)(long)-Errno.ENOSPC);
        Assert.Equal(Enumerable.Repeat(0UL, lpm.Slots.Capacity - 1).Concat(Enumerable.Repeat(enospc, 3)), results);

        WaitForTheGracePeriodThread();
        for (int run = 0; run < 3 * lpm.Slots.Capacity; run++)
        {
            if (lpm.Slots.FreeCount <= 1) WaitForTheGracePeriodThread();
            Assert.Equal(0UL, VmTestSupport.RunOnZeroFrame(vm, churn).R0);
        }
        Assert.Equal(1, lpm.Count);
        Assert.Equal(mine, RunEpochs.BarriersIssuedByThisThread);
    }

    /// <summary>The grace-period thread sleeps while no grace period is asked for: after a churning program stopped,
    /// its thread (found by name in /proc) is not woken (its context switches stay put) and uses no CPU time.</summary>
    [Fact]
    public void TheGracePeriodThreadSleepsWhileNothingIsAskedFor()
    {
        var lpm = Lpm(1);
        Assert.Equal(0, lpm.Update(Key(0x0A000001), BitConverter.GetBytes(7u), 0));
        var program = VmTestSupport.LoadFor(Churn, false, lpm);
        using var vm = new BpfVm();
        long barriers = RunEpochs.BarriersIssued;
        for (int run = 0; run < 3 * lpm.Slots.Capacity; run++)
        {
            if (lpm.Slots.FreeCount <= 1) WaitForTheGracePeriodThread();
            Assert.Equal(0UL, VmTestSupport.RunOnZeroFrame(vm, program).R0);
        }
        Assert.True(RunEpochs.BarriersIssued > barriers, "the churn made the thread issue barriers");
        WaitForTheGracePeriodThread();
        var parkedBy = DateTime.UtcNow.AddSeconds(10); // its idle turns after the last barrier, then asleep until asked
        while (!RunEpochs.GracePeriodThreadParked)
        {
            Assert.True(DateTime.UtcNow < parkedBy, "the grace-period thread never went to sleep");
            Thread.Sleep(10);
        }
        Thread.Sleep(20); // past the mark: in its wait

        string task = Directory.GetDirectories("/proc/self/task")
            .Single(t => File.ReadAllText(Path.Combine(t, "comm")).Trim() == "bpf-grace-perio"); // comm: 15 characters
        var before = Sample(task);
        Thread.Sleep(300);
        Assert.Equal(before, Sample(task));

        // (context switches, utime + stime in clock ticks)
        static (long, long, long) Sample(string task)
        {
            var status = File.ReadAllLines(Path.Combine(task, "status"));
            long Switches(string name) => long.Parse(status.Single(l => l.StartsWith(name + ":")).Split(':')[1].Trim());
            var stat = File.ReadAllText(Path.Combine(task, "stat"));
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' '); // fields from 3 (state) on
            return (Switches("voluntary_ctxt_switches"), Switches("nonvoluntary_ctxt_switches"), long.Parse(fields[11]) + long.Parse(fields[12]));
        }
    }
}
