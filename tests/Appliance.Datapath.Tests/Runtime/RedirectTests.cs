using Appliance.Config;
using Appliance.Datapath.Runtime;
using Appliance.TestSupport;
using Xunit;
using Appliance.Datapath.Forwarding;
using static Appliance.Datapath.Tests.Runtime.ProbeMaps;

namespace Appliance.Datapath.Tests.Runtime;

/// <summary>REDIRECT: to a port, into another pair's primary chain (with metadata and scrub), and the counted
/// drops (unknown ifindex, BPF_F_INGRESS, no bpf_redirect); tenants do not reach each other without one.</summary>
[Collection(KernelCollection.Name)]
public sealed class RedirectTests
{
    private const int Frames = 4;

    [PrivilegedFact]
    public void RedirectToAPortTransmitsThereInsteadOfTheUplink()
    {
        using var board = new MetaBoard(ports: 2, tenants: 1);
        var rt = board.Start([board.Port(0), board.Port(1)], [board.Pair(0, uplink: 0, peer: MetaBoard.Side(chain: "a"))], [MetaBoard.Probe("a", 'a')]);
        var probe = new ProbeMaps(rt, "a");
        probe.Act(A, Redirect, redirectIfindex: rt.Topology.Ports[1].Ifindex);

        var got = board.FromTenant(0, 1, Frames, out var sent);
        Assert.Equal(sent, got);
        Assert.Equal(Frames, rt.Engine.CountersOf(1).TxPackets);
        Assert.Equal(0, rt.Engine.CountersOf(0).TxPackets);
        Assert.Equal(Frames, rt.Programs["a"].Counters.Redirect);
    }

    [PrivilegedTheory]
    [InlineData(ScrubMode.Default)]
    [InlineData(ScrubMode.None)]
    public void RedirectIntoAnotherPairRunsItsPrimaryChainWithMetadataScrubbedAsConfigured(ScrubMode scrub)
    {
        using var board = new MetaBoard(ports: 1, tenants: 2);
        var rt = board.Start([board.Port(0)],
            [
                board.Pair(0, peer: MetaBoard.Side(chain: "a")),
                board.Pair(1, primary: MetaBoard.Side(SidePolicy.Pass, scrub, "c")),
            ],
            [MetaBoard.Probe("a", 'a'), MetaBoard.Probe("c", 'c')]);
        var probe = new ProbeMaps(rt, "a");
        var target = rt.FindPair(board.PairNames[1]);
        probe.Act(A, Redirect, redirectIfindex: target.PrimaryIfindex, mark: 0x77, priority: 5, cb0: 9);
        probe.Act(C, Pass);

        // Tenant 0 sends to tenant 1's MAC; its peer program redirects into pair 1.
        var got = FrameProbe.Exchange(board.Tenants[0].Name, MetaBoard.TenantInterface, board.Tenants[1].Name, MetaBoard.TenantInterface,
            MetaBoard.TenantMac(1).GetBytes(), MetaBoard.TenantMac(0).GetBytes(), Frames, out var sent);
        Assert.Equal(sent, got);
        var seen = probe.Seen(C);
        Assert.Equal(Frames, seen.Count);
        Assert.Equal(scrub == ScrubMode.Default ? 0u : 0x77u, seen.Mark);
        Assert.Equal(scrub == ScrubMode.Default ? 0u : 5u, seen.Priority);
        Assert.Equal(9u, seen.Cb0); // cb travels with the frame
        Assert.Equal((uint)board.TenantIfindex(1), seen.Ifindex);
        Assert.Equal(0u, seen.IngressIfindex);
        Assert.Equal(Frames, target.Primary.Counters.TxPackets);
        Assert.Equal(0, rt.Engine.CountersOf(0).TxPackets); // nothing left by the uplink
    }

    [PrivilegedTheory]
    [InlineData(999_999, 0u, PairDropReason.NoTarget)]
    [InlineData(0, 0u, PairDropReason.NoTarget)] // REDIRECT without bpf_redirect
    [InlineData(-1, 1u, PairDropReason.IngressRedirect)] // BPF_F_INGRESS to the uplink
    public void RedirectsTheApplianceCannotServeAreCountedDrops(int ifindex, uint flags, PairDropReason reason)
    {
        using var board = new MetaBoard(ports: 1, tenants: 1);
        var rt = board.Start([board.Port(0)], [board.Pair(0, peer: MetaBoard.Side(chain: "a"))], [MetaBoard.Probe("a", 'a')]);
        var probe = new ProbeMaps(rt, "a");
        probe.Act(A, Redirect, redirectIfindex: ifindex == -1 ? rt.Topology.Ports[0].Ifindex : ifindex, redirectFlags: flags);
        var pair = rt.FindPair(board.PairNames[0]);

        var got = board.FromTenant(0, 0, Frames, out _, timeoutMs: FrameProbe.Absence);
        Eventually.Equal(Frames, () => pair.Peer.Counters.Drops(reason), $"peer drops ({reason})");
        Assert.Empty(got);
        Assert.True(rt.Engine.IsRunning);
    }

    [PrivilegedFact]
    public void TenantsDoNotReachEachOtherWithoutARedirect()
    {
        using var board = new MetaBoard(ports: 1, tenants: 2);
        var rt = board.Start([board.Port(0)], [board.Pair(0), board.Pair(1)]);
        using var inTenant1 = Engine.PacketSocket.Open(board.Tenants[1].Name, MetaBoard.TenantInterface, Engine.TestFrames.EtherType);
        // Tenant 0 → tenant 1's MAC: PASS hands it to the uplink (the wire), never to tenant 1.
        var onWire = board.FromTenant(0, 0, Frames, out var sent, dst: MetaBoard.TenantMac(1).GetBytes());
        Assert.Equal(sent, onWire);
        Assert.Empty(FrameProbe.Silence(inTenant1));
        Assert.Equal(0, rt.FindPair(board.PairNames[1]).Primary.Counters.RxPackets);
    }
}
