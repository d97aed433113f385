using Appliance.Datapath.Runtime;
using Appliance.Datapath.Tests.Engine;
using Appliance.TestSupport;
using Xunit;
using Appliance.Datapath.Forwarding;
using static Appliance.Datapath.Tests.Runtime.ProbeMaps;

namespace Appliance.Datapath.Tests.Runtime;

/// <summary>SPEC §4: a changed chain swaps in between two batches, never inside one. The pipeline reads each side's
/// chain at <see cref="NetkitPipeline.BeginBatch"/>; a change after that is seen only from the next batch on.</summary>
[Collection(KernelCollection.Name)]
public sealed unsafe class BatchSnapshotTests
{
    [PrivilegedFact]
    public void AChainChangeInsideABatchTakesEffectAtTheNextBatch()
    {
        using var board = new MetaBoard(ports: 1, tenants: 1);
        var rt = board.Start([board.Port(0)], [board.Pair(0, primary: MetaBoard.Side(chain: "a"))],
            [MetaBoard.Probe("a", 'a'), MetaBoard.Probe("b", 'b')]);
        var probe = new ProbeMaps(rt, "a");
        probe.Act(A, Pass);
        probe.Act(B, Pass);
        var pair = rt.FindPair(board.PairNames[0]);
        Assert.True(Eventually.True(() => pair.CarrierUp), "pair carrier up");
        var a = rt.Programs["a"].Counters;
        var b = rt.Programs["b"].Counters;
        var frame = TestFrames.Build(MetaBoard.TenantMac(0).GetBytes(), board.OutsideMac(0), 128, 1);

        using var pipeline = new NetkitPipeline(new TopologySource(rt.Topology), worker: 0);
        Delivery Run()
        {
            var copy = (byte[])frame.Clone();
            fixed (byte* buffer = copy)
            {
                pipeline.Begin(buffer, copy.Length, 0, copy.Length);
                return pipeline.IntoPair(pair);
            }
        }

        pipeline.BeginBatch();
        long aBefore = a.Runs, bBefore = b.Runs;
        Assert.False(Run().Dropped);
        pair.Primary.Chain.Replace("a", rt.Programs["b"]); // mid-batch change
        Assert.False(Run().Dropped);
        Assert.Equal(aBefore + 2, a.Runs); // the whole batch ran the chain it started with
        Assert.Equal(bBefore, b.Runs);

        pipeline.BeginBatch();
        Assert.False(Run().Dropped);
        Assert.Equal(aBefore + 2, a.Runs);
        Assert.Equal(bBefore + 1, b.Runs);
    }
}
