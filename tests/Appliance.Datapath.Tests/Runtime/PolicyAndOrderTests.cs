using Appliance.Config;
using Appliance.Datapath.Runtime;
using Appliance.TestSupport;
using Xunit;
using Appliance.Datapath.Forwarding;
using static Appliance.Datapath.Tests.Runtime.ProbeMaps;

namespace Appliance.Datapath.Tests.Runtime;

/// <summary>Default policies (only without programs) and chain order (first non-NEXT verdict wins), with real frames.</summary>
[Collection(KernelCollection.Name)]
public sealed class PolicyAndOrderTests
{
    private const int Frames = 4;

    [PrivilegedTheory]
    [InlineData(SidePolicy.Pass)]
    [InlineData(SidePolicy.Drop)]
    public void WithoutProgramsThePolicyDecidesBothSides(SidePolicy policy)
    {
        using var board = new MetaBoard(ports: 1, tenants: 1);
        var rt = board.Start([board.Port(0)], [board.Pair(0, primary: MetaBoard.Side(policy), peer: MetaBoard.Side(policy))]);
        var pair = rt.FindPair(board.PairNames[0]);
        int wait = policy == SidePolicy.Pass ? FrameProbe.Timeout : FrameProbe.Absence;

        var inbound = board.ToTenant(0, 0, Frames, out var sentIn, timeoutMs: wait);
        var outbound = board.FromTenant(0, 0, Frames, out var sentOut, timeoutMs: wait);
        if (policy == SidePolicy.Pass)
        {
            Assert.Equal(sentIn, inbound);
            Assert.Equal(sentOut, outbound);
        }
        else
        {
            Eventually.Equal(Frames, () => pair.Primary.Counters.Drops(PairDropReason.Policy), "primary policy drops");
            Eventually.Equal(Frames, () => pair.Peer.Counters.Drops(PairDropReason.Policy), "peer policy drops");
            Assert.Empty(inbound);
            Assert.Empty(outbound);
        }
    }

    [PrivilegedFact]
    public void WithProgramsABlackholePolicyIsIgnoredAndAllNextMeansPass()
    {
        using var board = new MetaBoard(ports: 1, tenants: 1);
        var rt = board.Start([board.Port(0)], [board.Pair(0, peer: MetaBoard.Side(SidePolicy.Drop, ScrubMode.Default, "a", "b"))],
            [MetaBoard.Probe("a", 'a'), MetaBoard.Probe("b", 'b')]);
        var probe = new ProbeMaps(rt, "a");
        probe.Act(A, Next);
        probe.Act(B, Next);
        var got = board.FromTenant(0, 0, Frames, out var sent);
        Assert.Equal(sent, got);
        Assert.Equal(Frames, rt.Programs["a"].Counters.Next);
        Assert.Equal(Frames, rt.Programs["b"].Counters.Next);
        Assert.Equal(0, rt.FindPair(board.PairNames[0]).Peer.Counters.Drops(PairDropReason.Policy));
    }

    [PrivilegedTheory]
    [InlineData("a", "b")]
    [InlineData("b", "a")]
    public void ProgramsRunInChainOrderAndTheFirstVerdictWins(string first, string second)
    {
        using var board = new MetaBoard(ports: 1, tenants: 1);
        var rt = board.Start([board.Port(0)], [board.Pair(0, primary: MetaBoard.Side(SidePolicy.Pass, ScrubMode.Default, first, second))],
            [MetaBoard.Probe("a", 'a'), MetaBoard.Probe("b", 'b')]);
        var probe = new ProbeMaps(rt, "a");
        int idFirst = first == "a" ? A : B, idSecond = first == "a" ? B : A;

        // NEXT then PASS: both run, in chain order.
        probe.Act(idFirst, Next);
        probe.Act(idSecond, Pass);
        var got = board.ToTenant(0, 0, Frames, out var sent);
        Assert.Equal(sent, got);
        Assert.True(probe.Seen(idFirst).Sequence < probe.Seen(idSecond).Sequence, $"{first} must run before {second}");
        Assert.Equal(Frames, rt.Programs[first].Counters.Next);
        Assert.Equal(Frames, rt.Programs[second].Counters.Pass);

        // DROP first: the second program never runs.
        probe.Act(idFirst, Drop);
        got = board.ToTenant(0, 0, Frames, out _, timeoutMs: FrameProbe.Absence);
        Eventually.Equal(Frames, () => rt.Programs[first].Counters.Drop, $"{first} drops");
        Assert.Empty(got);
        Assert.Equal(Frames, rt.Programs[second].Counters.Runs);
    }
}
