using Appliance.Datapath.Pairs;
using Xunit;
using Appliance.Config;

namespace Appliance.Datapath.Tests.Pairs;

public sealed class L2ClassifierTests
{
    private static byte[] Frame(string dst, string src)
    {
        var f = new byte[60];
        Span<byte> tmp = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(tmp, MacAddress.Parse(dst).Value);
        tmp[2..].CopyTo(f);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(tmp, MacAddress.Parse(src).Value);
        tmp[2..].CopyTo(f.AsSpan(6));
        return f;
    }

    private static readonly MacAddress BoardMac = MacAddress.Parse("02:b0:00:00:00:01");

    private static L2Classifier Make(int limit = 16) => new([0, 1], new Dictionary<int, MacAddress> { [0] = MacAddress.Parse("02:00:00:00:00:0a") },
        new Dictionary<int, int> { [0] = limit, [1] = limit }, [BoardMac, MacAddress.Parse("02:00:00:00:00:0a")]);

    [Fact]
    public void ConfiguredMacSelectsItsPair()
    {
        Assert.Equal(ClassifyKind.Pair, Classify(Make(), Frame("02:00:00:00:00:0a", "02:99:00:00:00:01"), out int pair));
        Assert.Equal(0, pair);
    }

    [Fact]
    public void BroadcastAndMulticastFloodToEveryPair()
    {
        var c = Make();
        Assert.Equal(ClassifyKind.Flood, Classify(c, Frame("ff:ff:ff:ff:ff:ff", "02:99:00:00:00:01"), out _));
        Assert.Equal(ClassifyKind.Flood, Classify(c, Frame("33:33:00:00:00:01", "02:99:00:00:00:01"), out _));
        Assert.Equal([0, 1], c.FloodTargets.ToArray());
    }

    [Fact]
    public void UnknownUnicastIsUnclaimedUntilLearned()
    {
        var c = Make();
        var toB = Frame("02:00:00:00:00:0b", "02:99:00:00:00:01");
        Assert.Equal(ClassifyKind.Unclaimed, Classify(c, toB, out _));
        Assert.Equal(LearnResult.Learned, c.Learn(1, Frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:00:0b")));
        Assert.Equal(LearnResult.Known, c.Learn(1, Frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:00:0b")));
        Assert.Equal(ClassifyKind.Pair, Classify(c, toB, out int pair));
        Assert.Equal(1, pair);
    }

    [Fact]
    public void ATenantCannotStealAnotherTenantsMac()
    {
        var c = Make();
        Assert.Equal(LearnResult.OwnedByAnother, c.Learn(1, Frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:00:0a")));
        Classify(c, Frame("02:00:00:00:00:0a", "02:99:00:00:00:01"), out int pair);
        Assert.Equal(0, pair);
    }

    [Fact]
    public void AWorkersMemoAnswersOnlyForTheMacAndTableItRemembers()
    {
        // A memo is a worker's last lookup that found an owner: the same MAC in the same published table. A learn, a
        // forget, ageing or another classifier (another port) publishes or is another table, which the memo must not answer for.
        var c = Make();
        var memo = default(ClassifyMemo);
        var toA = Frame("02:00:00:00:00:0a", "02:99:00:00:00:01");
        var toB = Frame("02:00:00:00:00:0b", "02:99:00:00:00:01");
        Assert.Equal(ClassifyKind.Pair, c.Classify(toA, out int pair, ref memo));
        Assert.Equal(0, pair);
        Assert.Equal(ClassifyKind.Pair, c.Classify(toA, out pair, ref memo)); // from the memo
        Assert.Equal(0, pair);
        Assert.Equal(ClassifyKind.Unclaimed, c.Classify(toB, out pair, ref memo)); // another MAC: looked up
        Assert.Equal(-1, pair);
        Assert.Equal(LearnResult.Learned, c.Learn(1, Frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:00:0b")));
        Assert.Equal(ClassifyKind.Pair, c.Classify(toB, out pair, ref memo));
        Assert.Equal(1, pair);
        Assert.Equal(ClassifyKind.Pair, c.Classify(toB, out pair, ref memo));
        Assert.Equal(1, pair);
        Assert.True(c.Forget(MacAddress.Parse("02:00:00:00:00:0b"))); // a new table: the memo's MAC is gone from it
        Assert.Equal(ClassifyKind.Unclaimed, c.Classify(toB, out pair, ref memo));
        Assert.Equal(-1, pair);
        // Another classifier where 02:..:0b is pair 0's: a memo of the first one's table says nothing about it.
        Assert.Equal(LearnResult.Learned, c.Learn(1, Frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:00:0b")));
        Assert.Equal(ClassifyKind.Pair, c.Classify(toB, out pair, ref memo));
        Assert.Equal(1, pair);
        var other = new L2Classifier([0, 1], new Dictionary<int, MacAddress> { [0] = MacAddress.Parse("02:00:00:00:00:0b") }, null, []);
        Assert.Equal(ClassifyKind.Pair, other.Classify(toB, out pair, ref memo));
        Assert.Equal(0, pair);
        // Group frames flood, runts are unclaimed, with any memo.
        Assert.Equal(ClassifyKind.Flood, c.Classify(Frame("ff:ff:ff:ff:ff:ff", "02:99:00:00:00:01"), out _, ref memo));
        Assert.Equal(ClassifyKind.Unclaimed, c.Classify(new byte[13], out _, ref memo));
    }

    [Fact]
    public void RuntFramesAreUnclaimed() => Assert.Equal(ClassifyKind.Unclaimed, Classify(Make(), new byte[13], out _));

    [Fact]
    public void GroupAndZeroSourcesAreNeverLearned()
    {
        var c = Make();
        Assert.Equal(LearnResult.InvalidSource, c.Learn(1, Frame("02:00:00:00:00:0a", "01:00:5e:00:00:01")));
        Assert.Equal(LearnResult.InvalidSource, c.Learn(1, Frame("02:00:00:00:00:0a", "ff:ff:ff:ff:ff:ff")));
        Assert.Equal(LearnResult.InvalidSource, c.Learn(1, Frame("02:00:00:00:00:0a", "00:00:00:00:00:00")));
        Assert.Equal(0, c.LearnedCount(1));
    }

    [Fact]
    public void TheBoardsOwnMacIsNeverLearned()
    {
        var c = Make();
        Assert.Equal(LearnResult.Reserved, c.Learn(1, Frame("ff:ff:ff:ff:ff:ff", BoardMac.ToString())));
        Assert.Equal(ClassifyKind.Unclaimed, Classify(c, Frame(BoardMac.ToString(), "02:99:00:00:00:01"), out _));
    }

    [Fact]
    public void LearningStopsAtThePairsLimitAndOtherPairsKeepTheirs()
    {
        var c = Make(limit: 3);
        for (int i = 0; i < 3; i++) Assert.Equal(LearnResult.Learned, c.Learn(1, Frame("ff:ff:ff:ff:ff:ff", $"02:00:00:00:01:{i:x2}")));
        for (int i = 3; i < 1000; i++) Assert.Equal(LearnResult.LimitReached, c.Learn(1, Frame("ff:ff:ff:ff:ff:ff", $"02:00:00:01:{i >> 8:x2}:{i & 255:x2}")));
        Assert.Equal(3, c.LearnedCount(1));
        Assert.Equal(LearnResult.Learned, c.Learn(0, Frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:02:01")));
        Assert.Equal(LearnResult.OwnedByAnother, c.Learn(0, Frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:01:00")));
    }

    [Fact]
    public void LearnedMacsAgeOutAndFreeTheirPlace()
    {
        var c = Make(limit: 1);
        c.SetClock(100);
        Assert.Equal(LearnResult.Learned, c.Learn(1, Frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:01:01")));
        c.SetClock(200);
        Assert.Equal(LearnResult.LimitReached, c.Learn(1, Frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:01:02")));
        Assert.Equal(0, c.Age(100).Length); // seen at 100: not older than the cutoff
        c.SetClock(300);
        Assert.Equal(LearnResult.Known, c.Learn(1, Frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:01:01"))); // refreshed at 300
        Assert.Equal(0, c.Age(250).Length);
        var aged = c.Age(301).ToArray();
        Assert.Equal([new LearnedMac(MacAddress.Parse("02:00:00:00:01:01"), 1)], aged);
        Assert.Equal(ClassifyKind.Unclaimed, Classify(c, Frame("02:00:00:00:01:01", "02:99:00:00:00:01"), out _));
        Assert.Equal(LearnResult.Learned, c.Learn(1, Frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:01:02")));
        // Configured MACs never age.
        Assert.Equal(ClassifyKind.Pair, Classify(c, Frame("02:00:00:00:00:0a", "02:99:00:00:00:01"), out _));
    }

    /// <summary>What an idle worker sleeps until: no learned MAC, no deadline; else the oldest last-seen time (a lower
    /// bound that refreshes leave behind), made exact by each ageing pass, and none again once all aged out.</summary>
    [Fact]
    public void OldestLearnedIsWhatTheNextAgeingWaitsFor()
    {
        var c = Make(limit: 4);
        Assert.Equal(long.MaxValue, c.OldestLearned); // the configured MAC never ages
        c.SetClock(100);
        c.Learn(1, Frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:01:01"));
        c.SetClock(200);
        c.Learn(1, Frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:01:02"));
        Assert.Equal(100, c.OldestLearned);
        c.SetClock(300);
        c.Learn(1, Frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:01:01")); // refreshed: the bound stays until the next pass
        Assert.Equal(100, c.OldestLearned);
        Assert.Equal(0, c.Age(150).Length);
        Assert.Equal(200, c.OldestLearned); // exact again: :02, seen at 200
        Assert.Single(c.Age(250).ToArray());
        Assert.Equal(300, c.OldestLearned);
        Assert.Single(c.Age(301).ToArray());
        Assert.Equal(long.MaxValue, c.OldestLearned);
        c.SetClock(400);
        c.Learn(0, Frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:02:01"));
        Assert.Equal(400, c.OldestLearned);
    }

    /// <summary>A host seen on the port's outside keeps its MAC: no tenant learns it while it was seen within
    /// <see cref="OutsideMacs.Lifetime"/>; a tenant that learned it before loses it when the host speaks (returned, so
    /// the caller releases it); a configured MAC stays its pair's; after the lifetime the MAC may be learned again.</summary>
    [Fact]
    public void A_host_seen_outside_keeps_its_mac()
    {
        var c = Make(limit: 4);
        var host = MacAddress.Parse("02:00:00:00:05:01");
        c.SetClock(1000);
        Assert.Equal(-1, c.SawOutside(host, 1000));
        Assert.Equal(LearnResult.SeenOutside, c.Learn(1, Frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:05:01")));
        Assert.Equal(ClassifyKind.Unclaimed, Classify(c, Frame("02:00:00:00:05:01", "02:99:00:00:00:01"), out _));

        // Learned first, then the host speaks: the MAC moves outside and the pair's place is free again.
        var moved = MacAddress.Parse("02:00:00:00:05:02");
        Assert.Equal(LearnResult.Learned, c.Learn(1, Frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:05:02")));
        Assert.Equal(1, c.LearnedCount(1));
        Assert.Equal(1, c.SawOutside(moved, 1100));
        Assert.Equal(0, c.LearnedCount(1));
        Assert.Equal(ClassifyKind.Unclaimed, Classify(c, Frame("02:00:00:00:05:02", "02:99:00:00:00:01"), out _));
        Assert.Equal(LearnResult.SeenOutside, c.Learn(1, Frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:05:02")));
        Assert.Equal(-1, c.SawOutside(moved, 1200)); // nothing left to forget

        // A configured MAC is its pair's whatever is seen outside.
        Assert.Equal(-1, c.SawOutside(MacAddress.Parse("02:00:00:00:00:0a"), 1200));
        Assert.Equal(ClassifyKind.Pair, Classify(c, Frame("02:00:00:00:00:0a", "02:99:00:00:00:01"), out _));

        // Outside's for the lifetime after it was last seen, then learnable; the successor of a reload shares the table.
        c.SetClock(1000 + OutsideMacs.Lifetime - 1);
        Assert.Equal(LearnResult.SeenOutside, c.Learn(1, Frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:05:01")));
        var next = c.CarryOver([0, 1], new Dictionary<int, MacAddress>(), new Dictionary<int, int> { [0] = 4, [1] = 4 }, [], _ => true, []);
        Assert.Same(c.Outside, next.Outside);
        next.SetClock(1000 + OutsideMacs.Lifetime - 1);
        Assert.Equal(LearnResult.SeenOutside, next.Learn(1, Frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:05:01")));
        next.SetClock(1000 + OutsideMacs.Lifetime);
        Assert.Equal(LearnResult.Learned, next.Learn(1, Frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:05:01")));
    }

    /// <summary>A MAC that moves outside while a reload carries the classifier's MACs over is not carried back: the
    /// flooder's move finds the successor (the <paramref name="keep"/> callback stands in for the flooder running at
    /// that moment), and a MAC seen outside before the copy is released, not carried.</summary>
    [Fact]
    public void A_move_during_a_reload_reaches_the_successor()
    {
        var c = Make(limit: 4);
        c.SetClock(1000);
        var m = MacAddress.Parse("02:00:00:00:05:09");
        Assert.Equal(LearnResult.Learned, c.Learn(1, Frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:05:09")));
        var moves = new List<int>();
        var t = new Thread(() => moves.Add(c.SawOutside(m, 1001))); // the flooder: waits for the carry-over's lock
        var next = c.CarryOver([0, 1], new Dictionary<int, MacAddress>(), new Dictionary<int, int> { [0] = 4, [1] = 4 }, [],
            pair => { t.Start(); Thread.Sleep(50); return true; }, []);
        t.Join();
        Assert.Equal([1], moves);
        Assert.Equal(0, c.LearnedCount(1));
        Assert.Equal(0, next.LearnedCount(1));
        Assert.Equal(ClassifyKind.Unclaimed, Classify(next, Frame("02:00:00:00:05:09", "02:99:00:00:00:01"), out _));

        // Seen outside before the reload: released, not carried.
        var n = MacAddress.Parse("02:00:00:00:05:0a");
        next.SetClock(2000);
        Assert.Equal(LearnResult.Learned, next.Learn(1, Frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:05:0a")));
        next.Outside.Saw(n, 2000); // recorded, not yet moved (a flooder between its record and its move)
        var released = new List<MacAddress>();
        var third = next.CarryOver([0, 1], new Dictionary<int, MacAddress>(), new Dictionary<int, int> { [0] = 4, [1] = 4 }, [], _ => true, released);
        Assert.Equal([n], released);
        Assert.Equal(0, third.LearnedCount(1));
    }

    private sealed class OtherPort(L2Classifier other) : IMacOwners
    {
        public bool OwnedElsewhere(MacAddress mac, L2Classifier asking) => !ReferenceEquals(asking, other) && other.TryOwner(mac, out _);
    }

    /// <summary>A MAC a pair of another port configured or learned is not learned here: claimed on this port too, the
    /// switch upstream would move it here (and a broadcast from it would then move it outside, locking its owner out).</summary>
    [Fact]
    public void A_mac_owned_on_another_port_is_not_learned()
    {
        var here = Make(limit: 4);
        var there = new L2Classifier([5], new Dictionary<int, MacAddress> { [5] = MacAddress.Parse("02:00:00:00:07:01") },
            new Dictionary<int, int> { [5] = 4 });
        Assert.Equal(LearnResult.Learned, there.Learn(5, Frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:07:02")));
        var others = new OtherPort(there);
        Assert.Equal(LearnResult.OwnedByAnother, here.Learn(1, Frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:07:02"), others)); // learned there
        Assert.Equal(LearnResult.OwnedByAnother, here.Learn(1, Frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:07:01"), others)); // configured there
        Assert.Equal(LearnResult.Learned, here.Learn(1, Frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:07:03"), others));
        Assert.Equal(LearnResult.Known, here.Learn(1, Frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:07:03"), others));
    }

    /// <summary>The table is bounded: a MAC seen again is refreshed in place; when every slot a MAC may take holds a
    /// MAC, the one seen longest ago makes room; group and zero MACs are never recorded.</summary>
    [Fact]
    public void The_outside_table_is_bounded_and_replaces_the_oldest()
    {
        var t = new OutsideMacs();
        t.Saw(MacAddress.Parse("ff:ff:ff:ff:ff:ff"), 1);
        t.Saw(MacAddress.Parse("01:00:5e:00:00:01"), 1);
        Assert.False(t.Has(MacAddress.Parse("ff:ff:ff:ff:ff:ff"), 1));
        Assert.False(t.Has(MacAddress.Parse("01:00:5e:00:00:01"), 1));
        Assert.False(t.Has(MacAddress.FromValue(0), 1));
        // Far more MACs than the table holds, each seen at its own time: the newest are all there, at most Capacity are.
        const int Count = OutsideMacs.Capacity * 4;
        for (int i = 0; i < Count; i++) t.Saw(MacAddress.FromValue(0x0200_0000_0000UL | (uint)i), 10 + i);
        long now = 10 + Count;
        int present = Enumerable.Range(0, Count).Count(i => t.Has(MacAddress.FromValue(0x0200_0000_0000UL | (uint)i), now));
        Assert.InRange(present, OutsideMacs.Capacity / 2, OutsideMacs.Capacity);
        Assert.True(t.Has(MacAddress.FromValue(0x0200_0000_0000UL | (Count - 1)), now));
        // Refreshing keeps one entry (no second slot) and moves its time.
        var m = MacAddress.FromValue(0x0200_0000_0000UL | (Count - 1));
        t.Saw(m, now + OutsideMacs.Lifetime);
        Assert.True(t.Has(m, now + OutsideMacs.Lifetime + 1));
        Assert.False(t.Has(MacAddress.FromValue(0x0200_0000_0000UL | (Count - 2)), now + OutsideMacs.Lifetime + 1));
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            t.Saw(MacAddress.FromValue(0x0200_0100_0000UL | (uint)i), now + i);
            t.Has(MacAddress.FromValue(0x0200_0100_0000UL | (uint)i), now + i);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void ClassifyingRefreshingRefusingAndAgeingNothingAllocateNothing()
    {
        var c = Make(limit: 16);
        var frames = Enumerable.Range(0, 64).Select(i => Frame("ff:ff:ff:ff:ff:ff", $"02:00:00:00:03:{i:x2}")).ToArray();
        for (int round = 0; round < 3; round++) // warm up: JIT; the first 16 are learned (a learn copies the table)
        {
            foreach (var f in frames) c.Learn(1, f);
            c.Age(-1);
        }
        Assert.Equal(16, c.LearnedCount(1));
        var memo = default(ClassifyMemo);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int round = 0; round < 100; round++)
        {
            c.SetClock(round);
            foreach (var f in frames) c.Learn(1, f); // 16 known (refreshed), 48 refused: limit reached
            Classify(c, frames[0], out _);
            c.Classify(frames[0], out _, ref memo);
            c.Age(-1); // nothing expires
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(16, c.LearnedCount(1));
    }

    [Fact]
    public void WorkersLearningAndClassifyingAtOnceSeeWholeTablesAndLearnEachMacOnce()
    {
        // Four threads learn the same 64 new MACs for one pair (limit 40) while four others classify: each MAC is
        // Learned by exactly one thread, at most the limit are, and a classifier never sees a MAC owned by a pair
        // other than the one that learned it.
        var c = Make(limit: 40);
        var macs = Enumerable.Range(0, 64).Select(i => $"02:00:00:00:05:{i:x2}").ToArray();
        var learnedBy = new int[macs.Length];
        int wrongOwner = 0;
        using var go = new ManualResetEventSlim(false);
        var learners = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
        {
            go.Wait();
            for (int i = 0; i < macs.Length; i++)
                if (c.Learn(1, Frame("ff:ff:ff:ff:ff:ff", macs[i])) == LearnResult.Learned) Interlocked.Increment(ref learnedBy[i]);
        })).ToList();
        bool stop = false;
        var readers = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
        {
            go.Wait();
            while (!Volatile.Read(ref stop))
                foreach (var m in macs)
                    if (Classify(c, Frame(m, "02:99:00:00:00:01"), out int p) == ClassifyKind.Pair && p != 1) Interlocked.Increment(ref wrongOwner);
        })).ToList();
        foreach (var t in learners.Concat(readers)) t.Start();
        go.Set();
        foreach (var t in learners) t.Join();
        Volatile.Write(ref stop, true);
        foreach (var t in readers) t.Join();
        Assert.All(learnedBy, n => Assert.InRange(n, 0, 1));
        Assert.Equal(40, learnedBy.Sum());
        Assert.Equal(40, c.LearnedCount(1));
        Assert.Equal(0, wrongOwner);
        Assert.Equal(40, macs.Count(m => Classify(c, Frame(m, "02:99:00:00:00:01"), out _) == ClassifyKind.Pair));
    }

    [Theory]
    [InlineData("02:00:00:00:00:0a", "02:00:00:00:00:0a")]
    [InlineData("AA-BB-CC-DD-EE-FF", "aa:bb:cc:dd:ee:ff")]
    public void MacRoundTrips(string text, string expected) => Assert.Equal(expected, MacAddress.Parse(text).ToString());

    /// <summary>One classification with no memo (what a worker's first frame sees).</summary>
    private static ClassifyKind Classify(L2Classifier c, ReadOnlySpan<byte> frame, out int pair)
    {
        var none = default(ClassifyMemo);
        return c.Classify(frame, out pair, ref none);
    }
}
