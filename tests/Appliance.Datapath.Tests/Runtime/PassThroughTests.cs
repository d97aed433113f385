using Appliance.Datapath.Runtime;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Datapath.Tests.Runtime;

[Collection(KernelCollection.Name)]
public sealed class PassThroughTests
{
    [PrivilegedFact]
    public void WithoutProgramsAPassPairForwardsBothWaysUnchanged()
    {
        using var board = new MetaBoard(ports: 1, tenants: 1);
        var rt = board.Start([board.Port(0)], [board.Pair(0)]);
        var pair = rt.FindPair(board.PairNames[0]);
        var tenantMac = MetaBoard.TenantMac(0).GetBytes();
        var outsideMac = board.OutsideMac(0);

        var got = FrameProbe.Exchange(board.Outside.Name, MetaBoard.OutsideInterface(0), board.Tenants[0].Name, MetaBoard.TenantInterface,
            tenantMac, outsideMac, 10, out var sent);
        Assert.Equal(sent.Count, got.Count);
        for (int i = 0; i < sent.Count; i++) Assert.Equal(sent[i], got[i]);
        Assert.Equal(10, pair.Primary.Counters.RxPackets);
        Assert.Equal(10, pair.Primary.Counters.TxPackets);

        got = FrameProbe.Exchange(board.Tenants[0].Name, MetaBoard.TenantInterface, board.Outside.Name, MetaBoard.OutsideInterface(0),
            outsideMac, tenantMac, 7, out sent);
        Assert.Equal(sent.Count, got.Count);
        for (int i = 0; i < sent.Count; i++) Assert.Equal(sent[i], got[i]);
        Assert.Equal(7, pair.Peer.Counters.TxPackets);
        Assert.Equal(0, pair.Peer.Counters.TxDropped);
    }
}
