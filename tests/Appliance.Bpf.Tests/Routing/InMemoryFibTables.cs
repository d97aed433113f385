using Appliance.Bpf.Routing;

namespace Appliance.Bpf.Tests.Routing;

/// <summary><see cref="IFibTables"/> held in plain lists, for tests: routes per table (longest
/// prefix wins, then the lowest metric; a full lookup walks local 255, main 254, default 253 as the kernel's default
/// rules, and a <see cref="RouteKind.Throw"/> route continues with the next table), neighbours, interfaces, and the
/// resolve requests it was asked for (<see cref="ResolveRequests"/>). Lookups scan (fine for test-sized tables) and
/// allocate nothing; changes take a lock and publish a new array, so readers never see a half-made table.</summary>
public sealed class InMemoryFibTables : IFibTables
{
    public const uint TableLocal = 255, TableMain = 254, TableDefault = 253;

    private readonly record struct RouteEntry(uint Table, IpFamily Family, IpAddressBytes Prefix, int PrefixLength, FibRoute Route);
    private readonly record struct NeighbourEntry(IpFamily Family, int Ifindex, IpAddressBytes Address, MacBytes Mac, bool Valid);

    private readonly Lock _gate = new();
    private RouteEntry[] _routes = [];
    private NeighbourEntry[] _neighbours = [];
    private (int Ifindex, FibInterface Info)[] _interfaces = [];
    private readonly List<(IpFamily Family, int Ifindex, IpAddressBytes Address)> _requests = [];

    /// <summary>Adds a route for <paramref name="prefix"/>/<paramref name="prefixLength"/> to <paramref name="table"/>
    /// (the table exists from its first route on; <see cref="AddTable"/> makes an empty one).</summary>
    public void AddRoute(uint table, IpFamily family, ReadOnlySpan<byte> prefix, int prefixLength, in FibRoute route)
    {
        int length = IpFamilies.AddressLength(family);
        if (length == 0 || prefix.Length != length) throw new ArgumentException($"a {family} prefix has {length} bytes", nameof(prefix));
        if ((uint)prefixLength > (uint)length * 8) throw new ArgumentOutOfRangeException(nameof(prefixLength));
        var entry = new RouteEntry(table, family, IpAddressBytes.From(prefix), prefixLength, route);
        lock (_gate) _routes = [.. _routes, entry];
    }

    /// <summary>Makes <paramref name="table"/> exist without routes (a lookup there finds nothing rather than no table).</summary>
    public void AddTable(uint table)
    {
        lock (_gate) _routes = [.. _routes, new RouteEntry(table, IpFamily.Unspec, default, 0, default)];
    }

    /// <summary>Adds or replaces the neighbour entry of <paramref name="address"/> on <paramref name="ifindex"/>;
    /// <paramref name="valid"/> false is an entry in an unusable state (incomplete, failed).</summary>
    public void SetNeighbour(IpFamily family, int ifindex, ReadOnlySpan<byte> address, ReadOnlySpan<byte> mac, bool valid = true)
    {
        var entry = new NeighbourEntry(family, ifindex, IpAddressBytes.From(address), MacBytes.From(mac), valid);
        lock (_gate)
        {
            _neighbours = [.. _neighbours.Where(n => !(n.Family == entry.Family && n.Ifindex == entry.Ifindex
                && Same(n.Address, entry.Address))), entry];
        }
    }

    public void SetInterface(int ifindex, in FibInterface info)
    {
        var copy = info;
        lock (_gate) _interfaces = [.. _interfaces.Where(i => i.Ifindex != ifindex), (ifindex, copy)];
    }

    /// <summary>What <see cref="RequestResolve"/> was asked, in order.</summary>
    public IReadOnlyList<(IpFamily Family, int Ifindex, IpAddressBytes Address)> ResolveRequests
    {
        get { lock (_gate) return [.. _requests]; }
    }

    public bool TryLookupRoute(IpFamily family, ReadOnlySpan<byte> destination, uint table, out FibRoute route) =>
        TryLookupRoute(family, destination, table, 0, out route);

    public bool TryLookupRoute(IpFamily family, ReadOnlySpan<byte> destination, uint table, int outputIfindex, out FibRoute route)
    {
        route = default;
        var routes = _routes;
        if (table != 0) return TryLookupTable(routes, table, family, destination, outputIfindex, out route, out _);
        foreach (uint t in (ReadOnlySpan<uint>)[TableLocal, TableMain, TableDefault])
        {
            if (TryLookupTable(routes, t, family, destination, outputIfindex, out route, out bool matched) && matched
                && route.Kind != RouteKind.Throw)
                return true;
        }
        route = default;
        return true;
    }

    private static bool TryLookupTable(RouteEntry[] routes, uint table, IpFamily family, ReadOnlySpan<byte> destination,
        int outputIfindex, out FibRoute route, out bool matched)
    {
        route = default;
        matched = false;
        bool exists = false;
        int best = -1;
        for (int i = 0; i < routes.Length; i++)
        {
            ref readonly var r = ref routes[i];
            if (r.Table != table || r.Family != family && r.Family != IpFamily.Unspec) continue;
            exists = true; // tables are per family, as the kernel's
            if (r.Family != family || !Matches(r.Prefix, r.PrefixLength, destination)) continue;
            if (outputIfindex != 0 && !r.Route.Kind.IsError() && r.Route.Ifindex != outputIfindex) continue;
            if (best < 0 || r.PrefixLength > routes[best].PrefixLength
                || r.PrefixLength == routes[best].PrefixLength && r.Route.Metric < routes[best].Route.Metric)
                best = i;
        }
        if (best >= 0)
        {
            route = routes[best].Route;
            matched = true;
        }
        return exists;
    }

    public bool TryLookupNeighbour(IpFamily family, int ifindex, ReadOnlySpan<byte> nextHop, Span<byte> mac)
    {
        foreach (ref readonly var n in _neighbours.AsSpan())
        {
            if (n.Family != family || n.Ifindex != ifindex || !Same(n.Address, nextHop)) continue;
            if (!n.Valid) return false;
            var found = n.Mac;
            ((ReadOnlySpan<byte>)found).CopyTo(mac);
            return true;
        }
        return false;
    }

    public void RequestResolve(IpFamily family, int ifindex, ReadOnlySpan<byte> nextHop)
    {
        lock (_gate) _requests.Add((family, ifindex, IpAddressBytes.From(nextHop)));
    }

    public bool TryGetInterface(int ifindex, out FibInterface info)
    {
        foreach (ref readonly var i in _interfaces.AsSpan())
        {
            if (i.Ifindex != ifindex) continue;
            info = i.Info;
            return true;
        }
        info = default;
        return false;
    }

    private static bool Same(IpAddressBytes stored, ReadOnlySpan<byte> address) =>
        address.Length is 4 or 16 && ((ReadOnlySpan<byte>)stored)[..address.Length].SequenceEqual(address);

    private static bool Same(IpAddressBytes a, IpAddressBytes b) => ((ReadOnlySpan<byte>)a).SequenceEqual(b);

    private static bool Matches(IpAddressBytes prefix, int prefixLength, ReadOnlySpan<byte> address)
    {
        ReadOnlySpan<byte> p = prefix;
        int full = prefixLength / 8, rest = prefixLength % 8;
        if (address.Length * 8 < prefixLength || !p[..full].SequenceEqual(address[..full])) return false;
        if (rest == 0) return true;
        int mask = 0xff << (8 - rest) & 0xff;
        return (p[full] & mask) == (address[full] & mask);
    }
}
