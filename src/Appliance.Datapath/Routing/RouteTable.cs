namespace Appliance.Datapath.Routing;

/// <summary>An immutable snapshot of the board's routes (the local, main and default tables of the appliance's
/// namespace, merged): per prefix the route the kernel would pick (local table before main before default, then
/// the lowest metric), looked up by longest prefix (<see cref="PrefixTable{T}"/>). Policy rules, source-specific and
/// TOS routes are not modelled (such routes are left out); of a multipath route the first next hop is used.</summary>
public sealed class RouteTable
{
    public static readonly RouteTable Empty = new(PrefixTable<Route>.Empty);

    private readonly PrefixTable<Route> _prefixes;

    private RouteTable(PrefixTable<Route> prefixes) => _prefixes = prefixes;

    public int Count => _prefixes.Count;

    /// <summary>The route for <paramref name="destination"/> (4 or 16 bytes, network order), null when none matches.</summary>
    public Route? Lookup(int family, ReadOnlySpan<byte> destination) => _prefixes.Lookup(family, destination);

    public Route? Lookup(int family, UInt128 destination) => _prefixes.Lookup(family, destination);

    public IEnumerable<Route> Routes => _prefixes.Entries().Select(e => e.Value);

    /// <summary>The table of <paramref name="routes"/>: for each prefix the preferred one.</summary>
    public static RouteTable Build(IEnumerable<Route> routes)
    {
        var b = new PrefixTable<Route>.Builder();
        foreach (var r in routes.OrderBy(TablePreference).ThenBy(r => r.Metric)) b.TryAdd(r.Family, r.Prefix, r.Length, r);
        return new RouteTable(b.Build());
    }

    private static int TablePreference(Route r) => r.Table switch
    {
        Interop.NetlinkRoute.RT_TABLE_LOCAL => 0,
        Interop.NetlinkRoute.RT_TABLE_MAIN => 1,
        _ => 2,
    };
}
