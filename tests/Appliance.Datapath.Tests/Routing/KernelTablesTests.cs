using System.Net;
using Appliance.Config;
using Appliance.Datapath.Links;
using Appliance.Bpf.Routing;
using Appliance.Datapath.Routing;
using Appliance.Datapath.Tests.Runtime;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Datapath.Tests.Routing;

/// <summary>The kernel tables of a scratch namespace, changed with `ip` (the real client) and read back from the
/// snapshots: dump at start, route and neighbour events, resolution through the kernel.</summary>
[Collection(KernelCollection.Name)]
public sealed class KernelTablesTests
{
    private static byte[] A(string ip) => IPAddress.Parse(ip).GetAddressBytes();
    private static UInt128 U(string ip) => IpNumbers.Read(IPAddress.Parse(ip));

    private static (NetNamespace Board, NetNamespace Peer) TwoNamespaces()
    {
        var board = new NetNamespace("rtb");
        var peer = new NetNamespace("rtp");
        board.Exec("ip", "link", "add", "p0", "type", "veth", "peer", "name", "q0", "netns", peer.Name);
        board.Exec("ip", "addr", "add", "10.61.0.2/24", "dev", "p0");
        board.Exec("ip", "addr", "add", "fd61::2/64", "dev", "p0", "nodad");
        board.Exec("ip", "link", "set", "p0", "up");
        peer.Exec("ip", "addr", "add", "10.61.0.1/24", "dev", "q0");
        peer.Exec("ip", "addr", "add", "fd61::1/64", "dev", "q0", "nodad");
        peer.Exec("ip", "link", "set", "q0", "up");
        return (board, peer);
    }

    private static KernelTables Open(NetNamespace ns) => NetworkNamespace.RunInside(ns.Name, () => new KernelTables());

    private static int Ifindex(NetNamespace ns, string name)
    {
        using var links = new LinkManager(ns.Name);
        return links.Get(name).Index;
    }

    [PrivilegedFact]
    public void Routes_are_dumped_at_start_and_followed_through_replace_and_delete()
    {
        var (board, peer) = TwoNamespaces();
        using var _b = board;
        using var _p = peer;
        board.Exec("ip", "route", "add", "10.77.0.0/16", "via", "10.61.0.1", "mtu", "1400");
        board.Exec("ip", "-6", "route", "add", "fd77::/48", "via", "fd61::1");
        board.Exec("ip", "route", "add", "10.88.0.0/16", "via", "10.61.0.3", "table", "100");
        board.Exec("ip", "route", "add", "throw", "10.61.0.128/25", "table", "local");
        int p0 = Ifindex(board, "p0");
        using var tables = Open(board);

        var r = tables.Routes.Lookup(IpFamily.Inet, A("10.77.3.4"));
        Assert.NotNull(r);
        Assert.Equal(RouteKind.Unicast, r.Kind);
        Assert.Equal(p0, r.OutIfindex);
        Assert.True(r.HasGateway);
        Assert.Equal(U("10.61.0.1"), r.Gateway);
        Assert.True(tables.TryLookupRoute(IpFamily.Inet, A("10.77.3.4"), 0, out var fib));
        Assert.Equal(p0, fib.Ifindex);
        Assert.Equal(IpFamily.Inet, fib.GatewayFamily);
        Assert.Equal(A("10.61.0.1"), ((ReadOnlySpan<byte>)fib.Gateway)[..4].ToArray());
        Assert.Equal(A("10.61.0.2"), ((ReadOnlySpan<byte>)fib.Source)[..4].ToArray());
        Assert.Equal(1400u, fib.Mtu);
        Assert.True(tables.TryLookupRoute(IpFamily.Inet, A("10.77.3.4"), 254, out fib));
        Assert.Equal(RouteKind.Unicast, fib.Kind);
        Assert.False(tables.TryLookupRoute(IpFamily.Inet, A("10.77.3.4"), 1234, out _));
        Assert.True(tables.TryLookupRoute(IpFamily.Inet, A("10.88.1.1"), 100, out fib));
        Assert.Equal(A("10.61.0.3"), ((ReadOnlySpan<byte>)fib.Gateway)[..4].ToArray());
        Assert.True(tables.TryLookupRoute(IpFamily.Inet, A("10.88.1.1"), 0, out fib));
        Assert.Equal(RouteKind.Unspec, fib.Kind); // table 100 is not in the default rules
        // A throw route in the local table sends the lookup on to main.
        Assert.Equal(RouteKind.Unicast, tables.Routes.Lookup(IpFamily.Inet, A("10.61.0.200"))!.Kind);
        Assert.Equal(1400, r.Mtu);
        Assert.Equal(16, r.Length);
        var onLink = tables.Routes.Lookup(IpFamily.Inet, A("10.61.0.9"));
        Assert.NotNull(onLink);
        Assert.False(onLink.HasGateway);
        Assert.Equal((IpFamily.Inet, U("10.61.0.9")), onLink.NextHop(U("10.61.0.9")));
        Assert.Equal(RouteKind.Local, tables.Routes.Lookup(IpFamily.Inet, A("10.61.0.2"))!.Kind);
        var r6 = tables.Routes.Lookup(IpFamily.Inet6, A("fd77::1:0:0:9"));
        Assert.True(r6 is not null, string.Join("\n", tables.Routes.Routes));
        Assert.NotNull(r6);
        Assert.Equal(U("fd61::1"), r6.Gateway);
        Assert.Null(tables.Routes.Lookup(IpFamily.Inet, A("192.0.2.1"))); // no default route in the scratch namespace

        long g = tables.Generation;
        board.Exec("ip", "route", "replace", "blackhole", "10.77.0.0/16");
        Assert.True(Eventually.True(() => tables.Routes.Lookup(IpFamily.Inet, A("10.77.3.4"))?.Kind == RouteKind.Blackhole), "replace followed");
        Assert.True(tables.Generation > g);
        board.Exec("ip", "route", "add", "10.77.3.0/24", "via", "10.61.0.5");
        Assert.True(Eventually.True(() => tables.Routes.Lookup(IpFamily.Inet, A("10.77.3.4"))?.Gateway == U("10.61.0.5")), "a longer prefix added");
        Assert.Equal(RouteKind.Blackhole, tables.Routes.Lookup(IpFamily.Inet, A("10.77.4.4"))!.Kind);
        board.Exec("ip", "route", "del", "10.77.0.0/16");
        board.Exec("ip", "-6", "route", "replace", "unreachable", "fd77::/48");
        Assert.True(Eventually.True(() => tables.Routes.Lookup(IpFamily.Inet, A("10.77.4.4")) is null), "delete followed");
        Assert.True(Eventually.True(() => tables.Routes.Lookup(IpFamily.Inet6, A("fd77::1"))?.Kind == RouteKind.Unreachable), "v6 replace followed");
    }

    /// <summary>One subnet on two interfaces is two routes (same prefix and metric, each out of its interface): the
    /// tables kept one per prefix and metric, so the second replaced the first, and when its interface went (Linux
    /// deletes its IPv4 routes without an RTM_DELROUTE) the board's own route to the subnet was gone or stale. Another
    /// test's board in the same namespace with the port subnet of the live-edit walk's did it (LiveEditWalkTests: an L3
    /// tenant's frames dropped as noRoute).</summary>
    [PrivilegedFact]
    public void One_subnet_on_two_interfaces_is_two_routes_and_a_deleted_interface_takes_only_its_own()
    {
        var (board, peer) = TwoNamespaces();
        using var _b = board;
        using var _p = peer;
        int p0 = Ifindex(board, "p0");
        using var tables = Open(board);
        board.Exec("ip", "link", "add", "p1", "type", "veth", "peer", "name", "q1", "netns", peer.Name);
        board.Exec("ip", "addr", "add", "10.61.0.3/24", "dev", "p1");
        board.Exec("ip", "link", "set", "p1", "up");
        int p1 = Ifindex(board, "p1");
        Assert.True(Eventually.True(() => tables.Routes.Routes.Count(r => r.Prefix == U("10.61.0.0") && r.Length == 24 && r.Table == 254) == 2),
            string.Join("\n", tables.Routes.Routes));
        Assert.Equal(p0, tables.Routes.Lookup(IpFamily.Inet, A("10.61.0.9"))!.OutIfindex); // the first, as the kernel's lookup
        board.Exec("ip", "link", "del", "p1");
        Assert.True(Eventually.True(() => !tables.Routes.Routes.Any(r => r.OutIfindex == p1)), string.Join("\n", tables.Routes.Routes));
        Assert.Equal(p0, tables.Routes.Lookup(IpFamily.Inet, A("10.61.0.9"))?.OutIfindex);
    }

    [PrivilegedFact]
    public void Neighbours_are_read_followed_and_resolved_through_the_kernel()
    {
        var (board, peer) = TwoNamespaces();
        using var _b = board;
        using var _p = peer;
        int p0 = Ifindex(board, "p0");
        board.Exec("ip", "neigh", "add", "10.61.0.40", "lladdr", "02:00:00:00:61:40", "dev", "p0");
        using var tables = Open(board);
        var known = tables.Neighbours.Find(IpFamily.Inet, p0, U("10.61.0.40"));
        Assert.NotNull(known);
        Assert.True(known.Usable);
        Assert.Equal(MacAddress.Parse("02:00:00:00:61:40"), known.Mac);
        Assert.True(tables.TryGetInterface(p0, out var info));
        Assert.Equal(1500, info.Mtu);
        Assert.True(info.Up);
        Assert.False(info.Forwarding4);
        Assert.Equal(MetaBoard.InterfaceMac(board.Name, "p0"), ((ReadOnlySpan<byte>)info.Mac).ToArray());
        board.Exec("sysctl", "-qw", "net.ipv4.conf.p0.forwarding=1");
        Assert.True(Eventually.True(() => tables.TryGetInterface(p0, out var i) && i.Forwarding4), "netconf followed");
        var macBytes = new byte[6];
        Assert.True(tables.TryLookupNeighbour(IpFamily.Inet, p0, A("10.61.0.40"), macBytes));
        Assert.Equal(MacAddress.Parse("02:00:00:00:61:40").GetBytes(), macBytes);
        Assert.False(tables.TryLookupNeighbour(IpFamily.Inet, p0, A("10.61.0.41"), macBytes));

        var peerMac = MacAddress.Read(MetaBoard.InterfaceMac(peer.Name, "q0"));
        Assert.Null(tables.Neighbours.Find(IpFamily.Inet, p0, U("10.61.0.1")));
        tables.RequestResolve(IpFamily.Inet, p0, U("10.61.0.1"));
        tables.RequestResolve(IpFamily.Inet6, p0, U("fd61::1"));
        Assert.True(Eventually.True(() => tables.Neighbours.Find(IpFamily.Inet, p0, U("10.61.0.1")) is { Usable: true }), "ARP resolved on request");
        Assert.True(Eventually.True(() => tables.Neighbours.Find(IpFamily.Inet6, p0, U("fd61::1")) is { Usable: true }), "ND resolved on request");
        Assert.Equal(peerMac, tables.Neighbours.Find(IpFamily.Inet, p0, U("10.61.0.1"))!.Mac);
        Assert.Equal(peerMac, tables.Neighbours.Find(IpFamily.Inet6, p0, U("fd61::1"))!.Mac);
        Assert.True(tables.ResolveRequestsSent >= 2);
        Assert.Contains(peerMac.ToString(), board.Exec("ip", "neigh", "show", "10.61.0.1"));

        board.Exec("ip", "neigh", "del", "10.61.0.40", "dev", "p0");
        Assert.True(Eventually.True(() => tables.Neighbours.Find(IpFamily.Inet, p0, U("10.61.0.40")) is null), "delete followed");
    }
}
