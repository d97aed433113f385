using Appliance.Config;
using Appliance.Datapath.Pairs;
using Appliance.Datapath.Runtime;
using Appliance.Datapath.Tests.Runtime;
using Appliance.Host.Control;
using Appliance.TestSupport;
using Xunit;
using Appliance.Datapath.Forwarding;
using static Appliance.Datapath.Tests.Runtime.ProbeMaps;

namespace Appliance.Host.Tests.Control;

/// <summary>bpf_mprog chain changes on a running appliance (the control socket's `pairs attach|replace|detach`):
/// the next frames run the new chain; revisions count every change; stale revisions are refused.</summary>
[Collection(KernelCollection.Name)]
public sealed class ChainChangeTests
{
    [PrivilegedFact]
    public void BeforeAfterReplaceDetachTakeEffectForTheNextFrames()
    {
        using var board = new MetaBoard(ports: 1, tenants: 1);
        var rt = board.Start([board.Port(0)], [board.Pair(0, primary: MetaBoard.Side(SidePolicy.Drop, ScrubMode.Default, "a"))],
            [MetaBoard.Probe("a", 'a'), MetaBoard.Probe("b", 'b'), MetaBoard.Probe("c", 'c')]);
        var probe = new ProbeMaps(rt, "a");
        probe.Act(A, Next);
        probe.Act(B, Next);
        probe.Act(C, Pass);
        var editor = new ChainEditor(rt);
        var side = rt.FindPair(board.PairNames[0]).Primary;
        string pair = board.PairNames[0];
        Assert.Equal(2, side.Chain.Revision);

        Assert.Contains("revision 3, chain b -> a", editor.Apply(["attach", pair, "primary", "b", "--before", "a", "--expected-revision", "2"]));
        Assert.Equal(board.ToTenant(0, 0, 2, out var sent).Count, sent.Count); // all NEXT = PASS
        Assert.True(probe.Seen(B).Sequence < probe.Seen(A).Sequence);

        long aRuns = probe.Seen(A).Count;
        Assert.Contains("revision 4, chain b -> c", editor.Apply(["replace", pair, "primary", "a", "c"]));
        Assert.Equal(2, board.ToTenant(0, 0, 2, out _).Count);
        Assert.Equal(aRuns, probe.Seen(A).Count); // replaced: a no longer runs
        Assert.True(probe.Seen(B).Sequence < probe.Seen(C).Sequence);
        Assert.Equal(2, rt.Programs["c"].Counters.Pass);

        Assert.Contains("revision 5, chain b -> a -> c", editor.Apply(["attach", pair, "primary", "a", "--after", "b"]));
        var stale = Assert.Throws<ChainException>(() => editor.Apply(["detach", pair, "primary", "b", "--expected-revision", "3"]));
        Assert.Equal(ChainError.StaleRevision, stale.Error);
        Assert.Equal(ChainError.AlreadyAttached, Assert.Throws<ChainException>(() => editor.Apply(["attach", pair, "primary", "b"])).Error);
        Assert.Equal(ChainError.NotFound, Assert.Throws<ChainException>(() => editor.Apply(["detach", pair, "primary", "nope"])).Error);
        Assert.Contains("exclude each other", Assert.Throws<ArgumentException>(() => editor.Apply(["attach", pair, "primary", "c", "--first", "--after", "b"])).Message);
        Assert.Contains("SIDE is primary or peer, not 'middle'", Assert.Throws<ArgumentException>(() => editor.Apply(["detach", pair, "middle", "b"])).Message);
        Assert.Contains("--expected-revision needs a number", Assert.Throws<ArgumentException>(() => editor.Apply(["detach", pair, "primary", "b", "--expected-revision", "x"])).Message);
        Assert.Equal(5, side.Chain.Revision); // refusals change nothing

        editor.Apply(["detach", pair, "primary", "b"]);
        editor.Apply(["detach", pair, "primary", "a"]);
        editor.Apply(["detach", pair, "primary", "c"]);
        Assert.Empty(side.Chain.Programs);
        Assert.Equal(8, side.Chain.Revision);
        // Empty again: the blackhole policy decides.
        board.ToTenant(0, 0, 2, out _, timeoutMs: FrameProbe.Absence);
        Eventually.Equal(2, () => side.Counters.Drops(PairDropReason.Policy), "policy drops after the last detach");
    }
}
