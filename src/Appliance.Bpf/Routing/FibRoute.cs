namespace Appliance.Bpf.Routing;

/// <summary>The route a lookup found. For <see cref="RouteKind.Unicast"/>: the out interface, the gateway when the
/// route has one (its family may differ from the lookup's: an IPv4 route via an IPv6 gateway, RFC 5549), the metric
/// (the kernel's priority), the route MTU (RTAX_MTU, 0 = none) and whether it is locked (<c>mtu lock N</c>: only a
/// locked route MTU applies to forwarded frames, as in ip_mtu_from_fib_result / ip6_mtu_from_fib6), and the source
/// address the kernel would use towards this route (the route's prefsrc, else the address it would select on the
/// out interface; <see cref="SourceFamily"/> Unspec when there is none).</summary>
public struct FibRoute
{
    public RouteKind Kind;
    public int Ifindex;
    public IpFamily GatewayFamily;
    public IpAddressBytes Gateway;
    public uint Metric;
    public uint Mtu;
    public bool MtuLocked;
    public IpFamily SourceFamily;
    public IpAddressBytes Source;

    public readonly bool HasGateway => GatewayFamily != IpFamily.Unspec;
}
