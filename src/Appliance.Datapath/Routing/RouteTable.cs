using System.Collections.Frozen;
using Appliance.Bpf.Routing;
using static Appliance.Interop.NetlinkRoute;

namespace Appliance.Datapath.Routing;

/// <summary>An immutable snapshot of the board's routing tables (all tables of the appliance's namespace), each a
/// longest-prefix match (<see cref="PrefixTable{T}"/>; per prefix its routes by metric, the lowest first).
/// <see cref="Lookup(IpFamily, ReadOnlySpan{byte})"/> is the kernel's lookup under its default rules: table local,
/// then main, then default, a throw route going on with the next table. With an output interface
/// (<see cref="Lookup(IpFamily, UInt128, int)"/>: the kernel's flowi4_oif, bpf_fib_lookup's BPF_FIB_LOOKUP_OUTPUT)
/// routes through another interface are passed over — the next route of the prefix by metric, then shorter prefixes,
/// then the next table — as fib_table_lookup skips next hops whose device is not the oif and backtracks; blackhole,
/// unreachable, prohibit and throw routes match whatever the interface. Other policy rules, source-specific and TOS
/// routes are not modelled (such routes are left out); of a multipath route the first next hop is used.</summary>
public sealed class RouteTable
{
    private static readonly int[] DefaultRules = [RT_TABLE_LOCAL, RT_TABLE_MAIN, RT_TABLE_DEFAULT];
    public static readonly RouteTable Empty = new(FrozenDictionary<int, PrefixTable<Route[]>>.Empty);

    private readonly FrozenDictionary<int, PrefixTable<Route[]>> _tables;
    private readonly PrefixTable<Route[]>?[] _ruleTables;

    private RouteTable(FrozenDictionary<int, PrefixTable<Route[]>> tables)
    {
        _tables = tables;
        _ruleTables = [.. DefaultRules.Select(t => tables.TryGetValue(t, out var p) ? p : null)];
    }

    public int Count => _tables.Values.Sum(t => t.Entries().Sum(e => e.Value.Length));

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
            if (table?.Lookup(family, destination) is not [var r, ..]) continue;
            if (r.Kind != RouteKind.Throw) return r;
        }
        return null;
    }

    /// <summary><see cref="Lookup(IpFamily, UInt128)"/> for a packet leaving through <paramref name="outputIfindex"/>
    /// (0: any): routes through another interface are passed over (see the class summary).</summary>
    public Route? Lookup(IpFamily family, UInt128 destination, int outputIfindex)
    {
        if (outputIfindex == 0) return Lookup(family, destination);
        foreach (var table in _ruleTables)
        {
            if (table is null || Lookup(table, family, destination, outputIfindex) is not { } r) continue;
            if (r.Kind != RouteKind.Throw) return r;
        }
        return null;
    }

    /// <summary>The first route of <paramref name="table"/>, longest prefix first and by metric within one, that is an
    /// error route or leaves through <paramref name="outputIfindex"/> (fib_table_lookup with flowi4_oif).</summary>
    private static Route? Lookup(PrefixTable<Route[]> table, IpFamily family, UInt128 destination, int outputIfindex)
    {
        int position = 0;
        while (table.NextMatch(family, destination, ref position, out var routes))
            foreach (var r in routes!)
                if (r.Kind.IsError() || r.OutIfindex == outputIfindex) return r;
        return null;
    }

    /// <summary>Longest match in table <paramref name="table"/> only, for a packet leaving through
    /// <paramref name="outputIfindex"/> (0: any); false when that table does not exist.</summary>
    public bool TryLookupIn(int table, IpFamily family, ReadOnlySpan<byte> destination, int outputIfindex, out Route? route)
    {
        route = null;
        if (!_tables.TryGetValue(table, out var t)) return false;
        if (destination.Length < IpFamilies.AddressLength(family) || IpFamilies.AddressLength(family) == 0) return true;
        if (outputIfindex != 0) route = Lookup(t, family, IpNumbers.Read(family, destination), outputIfindex);
        else if (t.Lookup(family, destination) is [var first, ..]) route = first;
        return true;
    }

    public IEnumerable<Route> Routes => _tables.Values.SelectMany(t => t.Entries().SelectMany(e => e.Value));

    /// <summary>The tables of <paramref name="routes"/>: per table and prefix its routes, the lowest metric first.</summary>
    public static RouteTable Build(IEnumerable<Route> routes)
    {
        var builders = new Dictionary<int, PrefixTable<Route[]>.Builder>();
        foreach (var prefix in routes.GroupBy(r => (r.Table, r.Family, r.Prefix, r.Length)))
        {
            if (!builders.TryGetValue(prefix.Key.Table, out var b)) builders[prefix.Key.Table] = b = new PrefixTable<Route[]>.Builder();
            b.TryAdd(prefix.Key.Family, prefix.Key.Prefix, prefix.Key.Length, [.. prefix.OrderBy(r => r.Metric)]);
        }
        return new RouteTable(builders.ToFrozenDictionary(e => e.Key, e => e.Value.Build()));
    }
}
