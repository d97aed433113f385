namespace Appliance.Bpf.Routing;

/// <summary>The board's routing, neighbour and interface tables as the routing helpers (bpf_fib_lookup,
/// bpf_redirect_neigh) and the L3 datapath read them: the kernel's tables mirrored in memory (over rtnetlink in the
/// appliance, <c>Appliance.Datapath.Routing</c>; an in-memory one in the Bpf tests). Every member is called
/// on the per-frame path from several workers at once: lookups must be thread-safe for concurrent readers, must not
/// allocate and must not make a syscall. Addresses are in network byte order: 4 bytes for
/// <see cref="IpFamily.Inet"/>, 16 for <see cref="IpFamily.Inet6"/>.</summary>
public interface IFibTables
{
    /// <summary>Longest-prefix match of <paramref name="destination"/>. <paramref name="table"/> 0 is the kernel's full
    /// lookup (its default rules: tables local, main, default); any other number looks in that table only (254 =
    /// main; bpf_fib_lookup's BPF_FIB_LOOKUP_DIRECT and TBID). False when that table does not exist; true with
    /// <see cref="RouteKind.Unspec"/> when it exists but nothing matches.</summary>
    bool TryLookupRoute(IpFamily family, ReadOnlySpan<byte> destination, uint table, out FibRoute route);

    /// <summary><see cref="TryLookupRoute(IpFamily, ReadOnlySpan{byte}, uint, out FibRoute)"/> for a frame leaving
    /// through <paramref name="outputIfindex"/> (0: any; the kernel's flowi4_oif; bpf_fib_lookup's BPF_FIB_LOOKUP_OUTPUT for
    /// IPv4): routes whose next hop uses another interface are passed over for shorter prefixes; blackhole,
    /// unreachable, prohibit and throw routes match whatever the interface. The default only keeps the best route
    /// when it leaves there (it cannot fall back to a shorter prefix); implementations should override it.</summary>
    bool TryLookupRoute(IpFamily family, ReadOnlySpan<byte> destination, uint table, int outputIfindex, out FibRoute route)
    {
        if (!TryLookupRoute(family, destination, table, out route)) return false;
        if (outputIfindex != 0 && !route.Kind.IsError() && route.Kind != RouteKind.Unspec && route.Ifindex != outputIfindex) route = default;
        return true;
    }

    /// <summary>The link-layer address of <paramref name="nextHop"/> on <paramref name="ifindex"/> when the kernel's
    /// neighbour entry is valid (NUD_VALID: reachable, stale, delay, probe, permanent, noarp): writes 6 bytes into
    /// <paramref name="mac"/> and returns true; false when there is no entry or it is incomplete/failed.</summary>
    bool TryLookupNeighbour(IpFamily family, int ifindex, ReadOnlySpan<byte> nextHop, Span<byte> mac);

    /// <summary>Asks for <paramref name="nextHop"/> on <paramref name="ifindex"/> to be resolved (ARP / neighbour
    /// solicitation by the kernel). Never blocks and makes no syscall: the request is queued (duplicates may be
    /// dropped) and served off the frame path; a later <see cref="TryLookupNeighbour"/> sees the answer.</summary>
    void RequestResolve(IpFamily family, int ifindex, ReadOnlySpan<byte> nextHop);

    /// <summary>The interface <paramref name="ifindex"/>: MTU, MAC, up, forwarding. False when there is none.</summary>
    bool TryGetInterface(int ifindex, out FibInterface info);

    /// <summary>An object replaced whenever a route changes (the routes' snapshot): a reader may keep what it derived
    /// from <see cref="TryLookupRoute(IpFamily, ReadOnlySpan{byte}, uint, out FibRoute)"/> while the same object comes
    /// back. Null where the tables cannot tell: nothing derived may be kept.</summary>
    object? RoutesVersion => null;
}
