using Appliance.Bpf.Routing;

namespace Appliance.Datapath.Routing;

/// <summary>One route of the board's kernel tables, as an RTM_NEWROUTE message describes it.</summary>
/// <param name="Family">AF_INET or AF_INET6.</param>
/// <param name="Prefix">The destination prefix (host bits clear; the integer form of <see cref="IpNumbers"/>).</param>
/// <param name="Length">Prefix length.</param>
/// <param name="Table">Routing table id (255 local, 254 main, 253 default, or any other).</param>
/// <param name="Metric">RTA_PRIORITY: among routes of one prefix and table the lowest wins.</param>
/// <param name="Kind">Unicast, local, blackhole, unreachable, prohibit, throw, ...</param>
/// <param name="OutIfindex">Output interface (RTA_OIF; 0 for routes without one, e.g. blackhole).</param>
/// <param name="GatewayFamily">Family of the next hop (RTA_GATEWAY: the route's; RTA_VIA may differ); Unspec when the destination is on-link.</param>
/// <param name="Gateway">The next hop when <paramref name="GatewayFamily"/> is not Unspec.</param>
/// <param name="Mtu">Route MTU (RTAX_MTU in RTA_METRICS), 0 when the route sets none (the interface's MTU applies).</param>
/// <param name="MtuLocked">`mtu lock N`: RTAX_LOCK has the MTU bit.</param>
/// <param name="PreferredSource">RTA_PREFSRC, 0 when absent (then the out interface's address is the source).</param>
public sealed record Route(IpFamily Family, UInt128 Prefix, int Length, int Table, uint Metric, RouteKind Kind, int OutIfindex,
    IpFamily GatewayFamily, UInt128 Gateway, int Mtu, bool MtuLocked, UInt128 PreferredSource)
{
    public bool HasGateway => GatewayFamily != IpFamily.Unspec;

    /// <summary>The route as the helpers read it (filled when the snapshot is published, with the source address).</summary>
    public FibRoute Fib;

    /// <summary>Where a packet to <paramref name="destination"/> goes next: the gateway, or the destination itself.</summary>
    public (IpFamily Family, UInt128 Address) NextHop(UInt128 destination) => HasGateway ? (GatewayFamily, Gateway) : (Family, destination);

    public override string ToString() =>
        $"{Kind.ToString().ToLowerInvariant()} {IpNumbers.Format(Family, Prefix)}/{Length}" +
        (HasGateway ? $" via {IpNumbers.Format(GatewayFamily, Gateway)}" : "") + (OutIfindex != 0 ? $" dev {OutIfindex}" : "") +
        $" table {Table} metric {Metric}" + (Mtu != 0 ? $" mtu {(MtuLocked ? "lock " : "")}{Mtu}" : "");
}
