namespace Appliance.Datapath.Routing;

/// <summary>One route of the board's kernel table, as an RTM_NEWROUTE message describes it.</summary>
/// <param name="Family">AF_INET or AF_INET6 (<see cref="IpFamily"/>).</param>
/// <param name="Prefix">The destination prefix (host bits clear; see <see cref="IpFamily"/> for the integer form).</param>
/// <param name="Length">Prefix length.</param>
/// <param name="Kind">Unicast, local, blackhole, unreachable, prohibit, ...</param>
/// <param name="OutIfindex">Output interface (RTA_OIF; 0 for routes without one, e.g. blackhole).</param>
/// <param name="Gateway">Next hop (RTA_GATEWAY, same family) when <paramref name="HasGateway"/>; else the destination itself is on-link.</param>
/// <param name="Mtu">Route MTU (RTAX_MTU in RTA_METRICS), 0 when the route sets none (the interface's MTU applies).</param>
/// <param name="Table">Routing table id (255 local, 254 main, 253 default).</param>
/// <param name="Metric">RTA_PRIORITY: among routes of one prefix and table the lowest wins.</param>
public sealed record Route(int Family, UInt128 Prefix, int Length, RouteKind Kind, int OutIfindex, UInt128 Gateway, bool HasGateway,
    int Mtu, int Table, uint Metric)
{
    /// <summary>Where a packet to <paramref name="destination"/> goes next: the gateway, or the destination itself.</summary>
    public UInt128 NextHop(UInt128 destination) => HasGateway ? Gateway : destination;

    public override string ToString() =>
        $"{Kind.ToString().ToLowerInvariant()} {IpFamily.Format(Family, Prefix)}/{Length}" +
        (HasGateway ? $" via {IpFamily.Format(Family, Gateway)}" : "") + (OutIfindex != 0 ? $" dev {OutIfindex}" : "") +
        $" table {Table} metric {Metric}" + (Mtu != 0 ? $" mtu {Mtu}" : "");
}
