using Appliance.Bpf.Routing;
using Xunit;

namespace Appliance.Bpf.Tests.Routing;

/// <summary>The in-memory routing tables the helper tests feed the VM: longest prefix, metric, the full lookup's
/// table order with throw, missing tables, neighbours and interfaces.</summary>
public sealed class InMemoryFibTablesTests
{
    private static FibRoute Via(int ifindex, byte last, uint metric = 0) => new()
    {
        Kind = RouteKind.Unicast, Ifindex = ifindex, Metric = metric,
        GatewayFamily = IpFamily.Inet, Gateway = IpAddressBytes.From([10, 0, 0, last]),
    };

    [Fact]
    public void LongestPrefixThenLowestMetricWins()
    {
        var t = new InMemoryFibTables();
        t.AddRoute(254, IpFamily.Inet, [0, 0, 0, 0], 0, Via(2, 1));
        t.AddRoute(254, IpFamily.Inet, [192, 168, 0, 0], 16, Via(3, 2, metric: 20));
        t.AddRoute(254, IpFamily.Inet, [192, 168, 0, 0], 16, Via(4, 3, metric: 10));
        Assert.True(t.TryLookupRoute(IpFamily.Inet, [192, 168, 7, 7], 0, out var r));
        Assert.Equal(4, r.Ifindex);
        Assert.True(t.TryLookupRoute(IpFamily.Inet, [192, 169, 7, 7], 254, out r));
        Assert.Equal(2, r.Ifindex);
        Assert.False(t.TryLookupRoute(IpFamily.Inet, [192, 169, 7, 7], 100, out _));
        t.AddTable(100);
        Assert.True(t.TryLookupRoute(IpFamily.Inet, [192, 169, 7, 7], 100, out r));
        Assert.Equal(RouteKind.Unspec, r.Kind);
    }

    [Fact]
    public void FullLookupReadsLocalFirstAndThrowMovesOn()
    {
        var t = new InMemoryFibTables();
        t.AddRoute(255, IpFamily.Inet, [10, 0, 0, 9], 32, new FibRoute { Kind = RouteKind.Local, Ifindex = 2 });
        t.AddRoute(254, IpFamily.Inet, [10, 0, 0, 0], 8, new FibRoute { Kind = RouteKind.Throw });
        t.AddRoute(253, IpFamily.Inet, [10, 0, 0, 0], 8, Via(5, 1));
        Assert.True(t.TryLookupRoute(IpFamily.Inet, [10, 0, 0, 9], 0, out var r));
        Assert.Equal(RouteKind.Local, r.Kind);
        Assert.True(t.TryLookupRoute(IpFamily.Inet, [10, 0, 0, 8], 0, out r));
        Assert.Equal((RouteKind.Unicast, 5), (r.Kind, r.Ifindex));
        Assert.True(t.TryLookupRoute(IpFamily.Inet6, new byte[16], 0, out r));
        Assert.Equal(RouteKind.Unspec, r.Kind);
    }

    [Fact]
    public void NeighboursInterfacesAndResolveRequests()
    {
        var t = new InMemoryFibTables();
        byte[] v6 = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        t.SetNeighbour(IpFamily.Inet6, 3, v6, [2, 0, 0, 0, 0, 1]);
        t.SetNeighbour(IpFamily.Inet, 3, [10, 0, 0, 1], [2, 0, 0, 0, 0, 2], valid: false);
        Span<byte> mac = stackalloc byte[6];
        Assert.True(t.TryLookupNeighbour(IpFamily.Inet6, 3, v6, mac));
        Assert.Equal(new byte[] { 2, 0, 0, 0, 0, 1 }, mac.ToArray());
        Assert.False(t.TryLookupNeighbour(IpFamily.Inet6, 4, v6, mac));
        Assert.False(t.TryLookupNeighbour(IpFamily.Inet, 3, [10, 0, 0, 1], mac));
        t.SetNeighbour(IpFamily.Inet, 3, [10, 0, 0, 1], [2, 0, 0, 0, 0, 3]);
        Assert.True(t.TryLookupNeighbour(IpFamily.Inet, 3, [10, 0, 0, 1], mac));
        Assert.Equal(3, mac[5]);

        t.SetInterface(3, new FibInterface { Mtu = 1400, Up = true, Forwarding6 = true, Mac = MacBytes.From([2, 0, 0, 0, 0, 9]) });
        Assert.True(t.TryGetInterface(3, out var info));
        Assert.Equal(1400, info.Mtu);
        Assert.True(info.Forwards(IpFamily.Inet6));
        Assert.False(info.Forwards(IpFamily.Inet));
        Assert.False(t.TryGetInterface(4, out _));

        t.RequestResolve(IpFamily.Inet, 3, [10, 0, 0, 7]);
        var request = Assert.Single(t.ResolveRequests);
        Assert.Equal((IpFamily.Inet, 3, (byte)7), (request.Family, request.Ifindex, request.Address[3]));
    }

    /// <summary>Tables that only know the plain lookup (as an implementation may): the interface's default for an
    /// output interface keeps the route when it leaves there or when any interface will do (0), and error routes.</summary>
    private sealed class PlainLookup(FibRoute route) : IFibTables
    {
        public bool TryLookupRoute(IpFamily family, ReadOnlySpan<byte> destination, uint table, out FibRoute found)
        {
            found = route;
            return true;
        }
        public bool TryLookupNeighbour(IpFamily family, int ifindex, ReadOnlySpan<byte> nextHop, Span<byte> mac) => false;
        public void RequestResolve(IpFamily family, int ifindex, ReadOnlySpan<byte> nextHop) { }
        public bool TryGetInterface(int ifindex, out FibInterface info)
        {
            info = default;
            return false;
        }
    }

    [Fact]
    public void TheDefaultOutputLookupFiltersByInterfaceOnlyWhenOneIsGiven()
    {
        IFibTables t = new PlainLookup(Via(3, 1));
        Assert.True(t.TryLookupRoute(IpFamily.Inet, [10, 1, 1, 1], 0, 0, out var r));
        Assert.Equal(3, r.Ifindex);
        Assert.True(t.TryLookupRoute(IpFamily.Inet, [10, 1, 1, 1], 0, 3, out r));
        Assert.Equal(RouteKind.Unicast, r.Kind);
        Assert.True(t.TryLookupRoute(IpFamily.Inet, [10, 1, 1, 1], 0, 4, out r));
        Assert.Equal(RouteKind.Unspec, r.Kind);
        t = new PlainLookup(new FibRoute { Kind = RouteKind.Blackhole });
        Assert.True(t.TryLookupRoute(IpFamily.Inet, [10, 1, 1, 1], 0, 4, out r));
        Assert.Equal(RouteKind.Blackhole, r.Kind);

        var memory = new InMemoryFibTables();
        memory.AddRoute(254, IpFamily.Inet, [0, 0, 0, 0], 0, Via(4, 9));
        memory.AddRoute(254, IpFamily.Inet, [10, 0, 0, 0], 8, Via(3, 1));
        Assert.True(memory.TryLookupRoute(IpFamily.Inet, [10, 1, 1, 1], 254, 4, out r));
        Assert.Equal(4, r.Ifindex); // a shorter prefix through the interface asked for
    }
}
