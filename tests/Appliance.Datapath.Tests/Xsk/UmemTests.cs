using Appliance.Datapath.Xsk;
using Xunit;

namespace Appliance.Datapath.Tests.Xsk;

public sealed class UmemTests
{
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
