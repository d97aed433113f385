namespace Appliance.Datapath.Routing;

/// <summary>What a route does with a packet (the kernel's rtm_type, RTN_*): only <see cref="Unicast"/> routes
/// forward; <see cref="Local"/> is the board's own address; the others drop it, each its own way.</summary>
public enum RouteKind : byte
{
    Unicast = 1,
    Local = 2,
    Broadcast = 3,
    Anycast = 4,
    Multicast = 5,
    Blackhole = 6,
    Unreachable = 7,
    Prohibit = 8,
    Throw = 9,
}
