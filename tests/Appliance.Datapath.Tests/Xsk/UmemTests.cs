using Appliance.Datapath.Xsk;
using Xunit;

namespace Appliance.Datapath.Tests.Xsk;

public sealed class UmemTests
{
    /// <summary>A UMEM of 2 MiB or more starts on a 2 MiB boundary and, where transparent huge pages are not "never",
    /// is backed by them (its smaps entry counts AnonHugePages); its frames are usable and zeroed. A smaller one is
    /// ordinary 4 KiB pages.</summary>
    [Fact]
    public unsafe void A_large_area_is_aligned_to_2_MiB_and_backed_by_huge_pages()
    {
        using var u = new Umem("huge", 4096, 2048, 0); // 8 MiB
        Assert.Equal(0UL, (ulong)u.Base % (2 << 20));
        Assert.All(Enumerable.Range(0, 4096), i => Assert.Equal(0, u.Base[(long)i * 2048 + 100]));
        u.Base[8 * 1024 * 1024 - 1] = 7; // the last byte is ours
        const string thp = "/sys/kernel/mm/transparent_hugepage/enabled";
        if (File.Exists(thp) && !File.ReadAllText(thp).Contains("[never]"))
            Assert.True(AnonHugePagesKb((ulong)u.Base) >= 2048, $"AnonHugePages of the UMEM mapping: {AnonHugePagesKb((ulong)u.Base)} kB");

        using var small = new Umem("small", 16, 2048, 0);
        Assert.Equal(0UL, (ulong)small.Base % 4096);
        small.Base[16 * 2048 - 1] = 1;
    }

    /// <summary>AnonHugePages (kB) of the mapping in /proc/self/smaps that holds <paramref name="address"/>.</summary>
    private static long AnonHugePagesKb(ulong address)
    {
        bool inside = false;
        foreach (var line in File.ReadLines("/proc/self/smaps"))
        {
            int dash = line.IndexOf('-');
            if (dash > 0 && line.IndexOf(' ') > dash && ulong.TryParse(line.AsSpan(0, dash), System.Globalization.NumberStyles.HexNumber, null, out ulong lo))
            {
                ulong hi = ulong.Parse(line.AsSpan(dash + 1, line.IndexOf(' ') - dash - 1), System.Globalization.NumberStyles.HexNumber);
                inside = address >= lo && address < hi;
            }
            else if (inside && line.StartsWith("AnonHugePages:", StringComparison.Ordinal))
                return long.Parse(line["AnonHugePages:".Length..].Replace("kB", "").Trim());
        }
        return -1;
    }

    [Fact]
    public void Frames_are_aligned_distinct_and_accounted_by_state_and_owner()
    {
        using var u = new Umem("t", 16, 2048, 0) { CheckTransitions = true };
        var seen = new HashSet<ulong>();
        for (int i = 0; i < 16; i++)
        {
            Assert.True(u.TryAllocate(FrameState.Fill, i % 2, out ulong a));
            Assert.Equal(0UL, a % 2048);
            Assert.True(seen.Add(a));
        }
        Assert.False(u.TryAllocate(FrameState.Fill, 0, out _));
        var c = u.AccountFrames();
        Assert.Equal(8, c.Count(0, FrameState.Fill));
        Assert.Equal(8, c.Count(1, FrameState.Fill));
        Assert.Equal(0, c.Free);

        ulong first = seen.First();
        u.Move(first + 256 + 10, FrameState.Fill, FrameState.App, 0); // an RX address inside the chunk
        u.Free(first + 256 + 10, FrameState.App);
        c = u.AccountFrames();
        Assert.Equal(1, c.Free);
        Assert.Equal(1, c.FreeStackDepth);
        Assert.Equal(0, c.FreeStackProblems);
        Assert.Equal(0, c.TransitionViolations);
    }

    [Fact]
    public unsafe void TakeFree_pops_a_block_of_distinct_frames_records_them_and_stops_at_the_free_count()
    {
        using var u = new Umem("t", 8, 2048, 0) { CheckTransitions = true };
        ulong* block = u.TakeFree(5, FrameState.Fill, 3);
        var taken = new HashSet<ulong>();
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(0UL, block[i] % 2048);
            Assert.True(block[i] < u.Length);
            Assert.True(taken.Add(block[i]));
        }
        Assert.Equal(3u, u.FreeCount);
        var c = u.AccountFrames();
        Assert.Equal(5, c.Count(3, FrameState.Fill));
        Assert.Equal(3, c.Free);
        Assert.Equal(0, c.FreeStackProblems);

        block = u.TakeFree(10, FrameState.Tx, 1); // more than is free: the 3 left
        Assert.Equal(0u, u.FreeCount);
        for (int i = 0; i < 3; i++) Assert.True(taken.Add(block[i]));
        c = u.AccountFrames();
        Assert.Equal(3, c.Count(1, FrameState.Tx));
        Assert.Equal(0, c.TransitionViolations);
    }

    [Fact]
    public void A_move_from_the_wrong_state_is_recorded_as_a_violation()
    {
        using var u = new Umem("t", 4, 4096, 0) { CheckTransitions = true };
        Assert.True(u.TryAllocate(FrameState.Fill, 0, out ulong a));
        u.Free(a, FrameState.Tx); // it was in Fill
        var c = u.AccountFrames();
        Assert.Equal(1, c.TransitionViolations);
        Assert.Contains("Tx->Free but was Fill", c.FirstViolation);
    }

    [Fact]
    public void Reclaim_frees_exactly_one_owners_frames_in_one_state()
    {
        using var u = new Umem("t", 8, 2048, 0);
        for (int i = 0; i < 8; i++) u.TryAllocate(i < 5 ? FrameState.Fill : FrameState.Tx, i < 3 ? 1 : 2, out _);
        Assert.Equal(3, u.Reclaim(1, FrameState.Fill));
        var c = u.AccountFrames();
        Assert.Equal(3, c.Free);
        Assert.Equal(2, c.Count(2, FrameState.Fill));
        Assert.Equal(3, c.Count(2, FrameState.Tx));
    }
}
