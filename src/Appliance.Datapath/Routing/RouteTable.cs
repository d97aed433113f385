using System.Collections.Frozen;
using Appliance.Bpf.Routing;
using static Appliance.Interop.NetlinkRoute;

namespace Appliance.Datapath.Routing;

/// <summary>An immutable snapshot of the board's routing tables (all tables of the appliance's namespace), each a
/// longest-prefix match (<see cref="PrefixTable{T}"/>; per prefix the lowest metric). <see cref="Lookup(IpFamily, ReadOnlySpan{byte})"/>
/// is the kernel's lookup under its default rules: table local, then main, then default, a throw route going on
/// with the next table. Other policy rules, source-specific and TOS routes are not modelled (such routes are left out);
/// of a multipath route the first next hop is used.</summary>
public sealed class RouteTable
{
    private static readonly int[] DefaultRules = [RT_TABLE_LOCAL, RT_TABLE_MAIN, RT_TABLE_DEFAULT];
    public static readonly RouteTable Empty = new(FrozenDictionary<int, PrefixTable<Route>>.Empty);

    private readonly FrozenDictionary<int, PrefixTable<Route>> _tables;
    private readonly PrefixTable<Route>?[] _ruleTables;

    private RouteTable(FrozenDictionary<int, PrefixTable<Route>> tables)
    {
        _tables = tables;
        _ruleTables = [.. DefaultRules.Select(t => tables.TryGetValue(t, out var p) ? p : null)];
    }

    public int Count => _tables.Values.Sum(t => t.Count);

    /// <summary>The route the kernel's default rules find for <paramref name="destination"/> (4 or 16 bytes, network
    /// order); null when none matches.</summary>
    public Route? Lookup(IpFamily family, ReadOnlySpan<byte> destination)
    {
        if (destination.Length < IpFamilies.AddressLength(family) || IpFamilies.AddressLength(family) == 0) return null;
        return Lookup(family, IpNumbers.Read(family, destination));
    }

    public Route? Lookup(IpFamily family, UInt128 destination)
    {
        foreach (var table in _ruleTables)
        {
            if (table?.Lookup(family, destination) is not { } r) continue;
            if (r.Kind != RouteKind.Throw) return r;
        }
        return null;
    }

    /// <summary>Longest match in table <paramref name="table"/> only; false when that table does not exist.</summary>
    public bool TryLookupIn(int table, IpFamily family, ReadOnlySpan<byte> destination, out Route? route)
    {
        route = null;
        if (!_tables.TryGetValue(table, out var t)) return false;
        if (destination.Length >= IpFamilies.AddressLength(family) && IpFamilies.AddressLength(family) != 0)
            route = t.Lookup(family, destination);
        return true;
    }

    public IEnumerable<Route> Routes => _tables.Values.SelectMany(t => t.Entries().Select(e => e.Value));

    /// <summary>The tables of <paramref name="routes"/>: per table and prefix the lowest metric.</summary>
    public static RouteTable Build(IEnumerable<Route> routes)
    {
        var builders = new Dictionary<int, PrefixTable<Route>.Builder>();
        foreach (var r in routes.OrderBy(r => r.Metric))
        {
            if (!builders.TryGetValue(r.Table, out var b)) builders[r.Table] = b = new PrefixTable<Route>.Builder();
            b.TryAdd(r.Family, r.Prefix, r.Length, r);
        }
        return new RouteTable(builders.ToFrozenDictionary(e => e.Key, e => e.Value.Build()));
    }
}
