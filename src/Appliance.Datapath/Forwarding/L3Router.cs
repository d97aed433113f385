using Appliance.Bpf.Routing;
using Appliance.Config;
using Appliance.Datapath.Engine;
using Appliance.Datapath.Runtime;
using static Appliance.Interop.NetlinkRoute;

namespace Appliance.Datapath.Forwarding;

/// <summary>What <see cref="L3Router.FromPort"/> made of a frame from a port.</summary>
public enum L3Ingress
{
    /// <summary>Not for an L3 pair: L2 classification decides.</summary>
    NotMine,
    /// <summary>An ARP request or neighbour solicitation for a tenant address, turned into the answer: send it back out of the port.</summary>
    Answered,
    /// <summary>For an L3 tenant: TTL decremented, Ethernet header rewritten for the tenant; into the pair's primary side.</summary>
    ToPair,
    /// <summary>For an L3 tenant, but its TTL / hop limit ran out here.</summary>
    Expired,
    /// <summary>For an L3 tenant, but from a source that cannot be out there: a martian
    /// (<see cref="L3Frames.RoutableSource"/>), an address of the port's own L3 tenants or one of the board's own
    /// (they live behind the port, so it is spoofed).</summary>
    InvalidSource,
}

/// <summary>The L3 half of the datapath (netkit's L3 mode, with the board as the router in front of the tenants),
/// one per worker, reading only immutable snapshots (the port's prefixes, the kernel tables) so any number of
/// workers run it at once; nothing allocates and nothing makes a syscall per frame.
/// <list type="bullet">
/// <item>World → tenant (<see cref="FromPort"/>): ARP requests and IPv6 neighbour solicitations for addresses in an L3
/// pair's prefixes on that port are answered with the port's MAC (proxy ARP/ND), broadcast/multicast ones and those a
/// neighbour sends to the port's MAC to confirm its cached entry (NUD probe). IPv4/IPv6 frames to the port's MAC
/// whose destination is in an L3 pair's prefix (one longest-prefix match over every L3 pair of the port) go to that
/// pair, as a forwarding host would send them: TTL / hop limit decremented, Ethernet destination the tenant's
/// MAC and source the pair's primary end. One of the board's own addresses inside a tenant's prefix stays the board's
/// (the steering leaves it to the kernel, <see cref="Xdp.Rules.L3PrefixMaps"/>), and no tenant sends from it.</item>
/// <item>Tenant → world (<see cref="Route"/>, after the peer chain passed): the board's kernel routing table picks the
/// out port and next hop, the kernel's neighbour table its MAC (unknown: the kernel is asked to resolve it and the frame
/// is dropped and counted, <see cref="PairDropReason.NoNeighbour"/>; the tenant's retransmission finds it; each pair
/// asks within its share, <see cref="PairRuntime.RequestResolve"/>), source MAC
/// the port's, TTL / hop limit decremented. Destinations that are another L3 tenant's are refused
/// (<see cref="PairDropReason.Isolation"/>): tenants reach each other only through an explicit redirect. The source
/// must be the tenant's own: inside one of the pair's prefixes (the longest match over the port's L3 pairs names
/// this pair) and routable, else <see cref="PairDropReason.InvalidSource"/> — no tenant sends as another tenant, as
/// the board, or from a martian address; nor an ICMP error about a packet it did not receive (the packet it quotes
/// must have been to one of the pair's own addresses: no tenant makes a host drop or slow another's flows).
/// VLAN-tagged frames are <see cref="PairDropReason.VlanTagged"/>.</item>
/// </list></summary>
/// <param name="tables">The routing tables it reads (null: none, every tenant frame is <see cref="PairDropReason.NoRoute"/>).</param>
public sealed class L3Router(IFibTables? tables)
{
    public L3Ingress FromPort(ref FrameView frame, PortRuntime port, out PairRuntime? pair)
    {
        pair = null;
        var prefixes = port.L3Prefixes;
        var data = frame.Data;
        if (prefixes.Count == 0 || data.Length < L3Frames.EthernetHeader) return L3Ingress.NotMine;
        bool group = (data[0] & 1) != 0;
        if (!group && MacAddress.Read(data) != port.Mac) return L3Ingress.NotMine;
        // Broadcast / multicast to resolve, or unicast to the port's MAC to confirm (a NUD probe of a cached entry).
        // One of the board's own addresses inside a tenant's prefix stays the board's (the kernel's local table wins
        // over a route, as it does for the kernel's own forwarding): the steering leaves it to the kernel, and a frame
        // that raced a change of the board's addresses is not taken for the tenant here either.
        bool board = port.Steering?.L3HoldsBoardAddresses == true;
        if (L3Frames.ArpRequestTarget(data, out var arpTarget) && prefixes.Lookup(IpFamily.Inet, arpTarget) is not null
            && !(board && BoardLocal(IpFamily.Inet, arpTarget)))
        {
            L3Frames.AnswerArp(data, port.Mac);
            Interlocked.Increment(ref port.ProxiedField);
            return L3Ingress.Answered;
        }
        if (L3Frames.NeighbourSolicitationTarget(data, out var nsTarget) && prefixes.Lookup(IpFamily.Inet6, nsTarget) is not null
            && !(board && BoardLocal(IpFamily.Inet6, nsTarget)) && L3Frames.AnswerNeighbourSolicitation(ref frame, port.Mac))
        {
            Interlocked.Increment(ref port.ProxiedField);
            return L3Ingress.Answered;
        }
        if (group) return L3Ingress.NotMine;
        var family = L3Frames.Destination(data, out var dst);
        if (family == IpFamily.Unspec || prefixes.Lookup(family, dst) is not { } target || (board && BoardLocal(family, dst)))
            return L3Ingress.NotMine;
        pair = target;
        var source = L3Frames.Source(family, data);
        if (!L3Frames.RoutableSource(family, data) || prefixes.Lookup(family, source) is not null || BoardAddress(family, source))
            return L3Ingress.InvalidSource;
        if (!L3Frames.DecrementTtl(family, data)) return L3Ingress.Expired;
        L3Frames.WriteEthernet(data, target.TenantMac, target.PrimaryMac);
        return L3Ingress.ToPair;
    }

    /// <summary>Whether <paramref name="address"/> is the board's own or a broadcast address of one of its subnets (a
    /// local or broadcast route of the local table), which no packet from the wire carries as its source: the
    /// kernel's fib_validate_source finds such a source martian.</summary>
    private bool BoardAddress(IpFamily family, ReadOnlySpan<byte> address) =>
        tables is not null && tables.TryLookupRoute(family, address, RT_TABLE_LOCAL, out var route)
        && route.Kind is RouteKind.Local or RouteKind.Broadcast;

    private bool BoardLocal(IpFamily family, ReadOnlySpan<byte> address) => Routing.BoardAddresses.IsLocal(tables, family, address);

    /// <summary>Routes a frame L3 tenant <paramref name="pair"/> sent (its peer side passed it): null and
    /// <paramref name="enginePort"/> set when it goes out (bytes rewritten), else why it is dropped.</summary>
    public PairDropReason? Route(ref FrameView frame, RuntimeTopology topology, PairRuntime pair, PortRuntime uplink, out int enginePort)
    {
        enginePort = -1;
        var data = frame.Data;
        var family = L3Frames.Destination(data, out var dst);
        if (family == IpFamily.Unspec) return L3Frames.Tagged(data) ? PairDropReason.VlanTagged : PairDropReason.NoRoute;
        if (!L3Frames.Forwardable(family, data)) return PairDropReason.NoRoute;
        var source = L3Frames.Source(family, data);
        if (!L3Frames.RoutableSource(family, data) || !ReferenceEquals(uplink.L3Prefixes.Lookup(family, source), pair)
            || (uplink.Steering?.L3HoldsBoardAddresses == true && BoardLocal(family, source)))
            return PairDropReason.InvalidSource;
        if (L3Frames.IcmpError(family, data, out var quoted)
            && (quoted.IsEmpty || !ReferenceEquals(uplink.L3Prefixes.Lookup(family, quoted), pair)))
            return PairDropReason.InvalidSource;
        if (uplink.L3Prefixes.Lookup(family, dst) is not null) return PairDropReason.Isolation;
        if (tables is null || !tables.TryLookupRoute(family, dst, 0, out var route) || route.Kind != RouteKind.Unicast
            || !topology.TryPort((uint)route.Ifindex, out enginePort))
            return PairDropReason.NoRoute;
        var port = topology.PortByEnginePort[enginePort]!;
        if (!ReferenceEquals(port, uplink) && port.L3Prefixes.Lookup(family, dst) is not null) return PairDropReason.Isolation;
        if (!L3Frames.DecrementTtl(family, data)) return PairDropReason.TtlExpired;
        var hopFamily = route.HasGateway ? route.GatewayFamily : family;
        ReadOnlySpan<byte> gateway = route.Gateway;
        var hop = route.HasGateway ? gateway[..IpFamilies.AddressLength(hopFamily)] : dst;
        if (!tables.TryLookupNeighbour(hopFamily, route.Ifindex, hop, data))
        {
            pair.RequestResolve(tables, hopFamily, route.Ifindex, hop);
            return PairDropReason.NoNeighbour;
        }
        L3Frames.WriteMac(data[6..], port.Mac);
        return null;
    }
}
