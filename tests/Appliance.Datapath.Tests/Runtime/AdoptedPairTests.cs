using Appliance.Config;
using Appliance.Datapath.Pairs;
using Appliance.TestSupport;
using Xunit;
using static Appliance.Datapath.Tests.Runtime.ProbeMaps;

namespace Appliance.Datapath.Tests.Runtime;

/// <summary>A pair that adopts an existing veth (config primaryInterface): the appliance forwards through it and
/// leaves it where it was, as it was, when it stops.</summary>
[Collection(KernelCollection.Name)]
public sealed class AdoptedPairTests
{
    private const int Frames = 5;

    [PrivilegedFact]
    public void AnAdoptedVethForwardsBothWaysAndIsLeftInPlace()
    {
        using var board = new MetaBoard(ports: 1, tenants: 1);
        string adopted = NetNamespace.UniqueInterface("mad");
        string tenantNs = board.Tenants[0].Name;
        try
        {
            Shell.Check("ip", "link", "add", adopted, "type", "veth", "peer", "name", MetaBoard.TenantInterface, "netns", tenantNs);
            Shell.Check("sysctl", "-qw", $"net.ipv6.conf.{adopted}.disable_ipv6=1");
            board.Tenants[0].Exec("ip", "link", "set", MetaBoard.TenantInterface, "address",
                string.Join(":", MetaBoard.TenantMac(0).GetBytes().Select(b => b.ToString("x2"))));
            board.Tenants[0].Exec("ethtool", "-K", MetaBoard.TenantInterface, "tx", "off");
            board.Tenants[0].Exec("ip", "link", "set", MetaBoard.TenantInterface, "up");
            Shell.Check("ip", "link", "set", adopted, "up");
            int primaryIndex = IfIndex(null, adopted), tenantIndex = IfIndex(tenantNs, MetaBoard.TenantInterface);

            var config = board.Pair(0, primary: MetaBoard.Side(chain: "a"));
            config = config with { Tenant = config.Tenant with { Mac = null }, PrimaryInterface = adopted };
            var rt = board.Start([board.Port(0)], [config], [MetaBoard.Probe("a", 'a')]);
            new ProbeMaps(rt, "a").Act(A, Pass);
            var pair = rt.FindPair(board.PairNames[0]);
            Assert.Equal(primaryIndex, pair.PrimaryIfindex);
            Assert.Equal(tenantIndex, pair.TenantIfindex);
            Assert.Equal(MacAddress.Read(MetaBoard.TenantMac(0).GetBytes()), pair.TenantMac); // read from the interface
            Assert.True(Eventually.True(() => pair.CarrierUp), "adopted pair carrier up");
            Assert.Contains("prog/xdp", Shell.Check("ip", "-d", "link", "show", adopted));

            Assert.Equal(Frames, board.ToTenant(0, 0, Frames, out _).Count);
            Assert.Equal(Frames, rt.Programs["a"].Counters.Pass);
            Assert.Equal(Frames, board.FromTenant(0, 0, Frames, out _).Count);

            board.Stop();
            Assert.Equal(primaryIndex, IfIndex(null, adopted)); // the very same interfaces, still there
            Assert.Equal(tenantIndex, IfIndex(tenantNs, MetaBoard.TenantInterface));
            Assert.DoesNotContain("prog/xdp", Shell.Check("ip", "-d", "link", "show", adopted));
            Assert.True(Shell.Run("ip", "link", "show", board.PairNames[0]).ExitCode != 0, "no interface named after the pair was created");
        }
        finally
        {
            board.Stop();
            Shell.Run("ip", "link", "del", adopted);
        }
    }

    private static int IfIndex(string? netns, string name)
    {
        using var links = new Appliance.Datapath.Links.LinkManager(netns);
        return links.Get(name).Index;
    }
}
