using Appliance.Datapath.Runtime;
using Appliance.TestSupport;
using Xunit;
using Appliance.Datapath.Forwarding;

namespace Appliance.Datapath.Tests.Runtime;

/// <summary>Carrier coupling: while the tenant's end is down the pair forwards nothing and counts the frames as
/// carrier drops (tx_dropped) on the side that would have sent them; up again, it forwards again.</summary>
[Collection(KernelCollection.Name)]
public sealed class CarrierTests
{
    [PrivilegedFact]
    public void FramesTowardsADownTenantAreCarrierDropsUntilItIsUpAgain()
    {
        using var board = new MetaBoard(ports: 1, tenants: 1);
        var rt = board.Start([board.Port(0)], [board.Pair(0)]);
        var pair = rt.FindPair(board.PairNames[0]);
        Assert.True(pair.CarrierUp);

        board.Tenants[0].Exec("ip", "link", "set", MetaBoard.TenantInterface, "down");
        Assert.True(Eventually.True(() => !pair.CarrierUp), "the link watcher must report carrier down");
        board.ToTenant(0, 0, 3, out _, timeoutMs: 0);
        Eventually.Equal(3, () => pair.Primary.Counters.Drops(PairDropReason.Carrier), "carrier drops");
        Assert.Equal(3, pair.Primary.Counters.TxDropped);

        board.Tenants[0].Exec("ip", "link", "set", MetaBoard.TenantInterface, "up");
        Assert.True(Eventually.True(() => pair.CarrierUp), "the link watcher must report carrier up");
        var got = board.ToTenant(0, 0, 3, out var sent);
        Assert.Equal(sent, got);
    }
}
