namespace Appliance.Bpf.Routing;

/// <summary>A route's type, with the kernel's RTN_* numbers (rtm_type), so a table read over rtnetlink casts it.
/// <see cref="Unspec"/> (0) is also "no route matched".</summary>
public enum RouteKind : byte
{
    Unspec = 0,
    Unicast = 1,
    Local = 2,
    Broadcast = 3,
    Anycast = 4,
    Multicast = 5,
    Blackhole = 6,
    Unreachable = 7,
    Prohibit = 8,
    Throw = 9,
    Nat = 10,
}
