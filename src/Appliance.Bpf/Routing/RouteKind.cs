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

public static class RouteKinds
{
    /// <summary>Kinds that answer with an error instead of a next hop (fib_props[type].error): they match a lookup
    /// whatever its output interface.</summary>
    public static bool IsError(this RouteKind kind) =>
        kind is RouteKind.Blackhole or RouteKind.Unreachable or RouteKind.Prohibit or RouteKind.Throw;
}
