using Appliance.Config;
using Appliance.Datapath.Runtime;
using Appliance.TestSupport;
using Xunit;
using Appliance.Datapath.Forwarding;
using static Appliance.Datapath.Tests.Runtime.ProbeMaps;

namespace Appliance.Datapath.Tests.Runtime;

/// <summary>netkit verdicts with real frames: a one-program chain on the peer side (tenant → world) and on the
/// primary side (world → tenant) returning each verdict; where the frames arrived, with which bytes, and which
/// counters moved.</summary>
[Collection(KernelCollection.Name)]
public sealed class VerdictTests
{
    private const int Frames = 5;

    [PrivilegedTheory]
    [InlineData(Pass, null)]
    [InlineData(Next, null)] // NEXT from the last program = PASS
    [InlineData(Drop, PairDropReason.Verdict)]
    [InlineData(42, PairDropReason.UnknownVerdict)] // netkit drops unknown values (tcx would treat them as NEXT)
    [InlineData(1, PairDropReason.UnknownVerdict)]  // TC_ACT_RECLASSIFY is not a netkit verdict
    public void PeerSideVerdict(int verdict, PairDropReason? drop)
    {
        using var board = new MetaBoard(ports: 1, tenants: 1);
        var rt = board.Start([board.Port(0)], [board.Pair(0, peer: MetaBoard.Side(SidePolicy.Drop, chain: "a"))], [MetaBoard.Probe("a", 'a')]);
        var probe = new ProbeMaps(rt, "a");
        probe.Act(A, verdict);
        var pair = rt.FindPair(board.PairNames[0]);

        var got = board.FromTenant(0, 0, Frames, out var sent, timeoutMs: drop is null ? FrameProbe.Timeout : FrameProbe.Absence);
        Eventually.Equal(Frames, () => rt.Programs["a"].Counters.Runs, "program runs");
        if (drop is { } reason)
        {
            Eventually.Equal(Frames, () => pair.Peer.Counters.Drops(reason), $"peer drops ({reason})");
            Assert.Equal(Frames, pair.Peer.Counters.TxDropped);
            Assert.Equal(0, pair.Peer.Counters.TxPackets);
            Assert.Empty(got);
        }
        else
        {
            Assert.Equal(sent, got);
            Assert.Equal(Frames, pair.Peer.Counters.TxPackets);
            Assert.Equal(0, pair.Peer.Counters.TxDropped);
            Assert.Equal(Frames, rt.Engine.CountersOf(0).TxPackets);
        }
        var seen = probe.Seen(A);
        Assert.Equal(Frames, seen.Count);
        Assert.Equal((uint)pair.PrimaryIfindex, seen.Ifindex); // a peer program sees the receiving end: the primary
        Assert.Equal(0u, seen.IngressIfindex);
        Assert.Equal(3u, seen.PacketType); // PACKET_OTHERHOST: the outside MAC is not the primary end's
        Assert.Equal(128u, seen.Length);
        Assert.Equal(verdict == Next ? Frames : 0, rt.Programs["a"].Counters.Next);
    }

    [PrivilegedTheory]
    [InlineData(Pass, null)]
    [InlineData(Next, null)]
    [InlineData(Drop, PairDropReason.Verdict)]
    [InlineData(-2, PairDropReason.UnknownVerdict)]
    public void PrimarySideVerdict(int verdict, PairDropReason? drop)
    {
        using var board = new MetaBoard(ports: 1, tenants: 1);
        var rt = board.Start([board.Port(0)], [board.Pair(0, primary: MetaBoard.Side(chain: "a"))], [MetaBoard.Probe("a", 'a')]);
        var probe = new ProbeMaps(rt, "a");
        probe.Act(A, verdict);
        var pair = rt.FindPair(board.PairNames[0]);

        var got = board.ToTenant(0, 0, Frames, out var sent, timeoutMs: drop is null ? FrameProbe.Timeout : FrameProbe.Absence);
        Eventually.Equal(Frames, () => rt.Programs["a"].Counters.Runs, "program runs");
        if (drop is { } reason)
        {
            Eventually.Equal(Frames, () => pair.Primary.Counters.Drops(reason), $"primary drops ({reason})");
            Assert.Empty(got);
            Assert.Equal(Frames, rt.Engine.CountersOf(0).Drops(Appliance.Datapath.Engine.DropReason.Policy));
        }
        else
        {
            Assert.Equal(sent, got);
            Assert.Equal(Frames, pair.Primary.Counters.TxPackets);
        }
        var seen = probe.Seen(A);
        Assert.Equal((uint)board.TenantIfindex(0), seen.Ifindex); // a primary program sees the tenant's interface
        Assert.Equal(0u, seen.PacketType); // PACKET_HOST: addressed to the tenant
    }
}
