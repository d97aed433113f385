using Appliance.Bpf.Routing;

namespace Appliance.Datapath.Routing;

/// <summary>The board's own addresses (the local table's host entries: `ip route show table local type local`) at
/// one moment. <paramref name="Version"/> grows with every change, so a reader handed two snapshots in the wrong
/// order keeps the newer.</summary>
public sealed record BoardAddresses(long Version, IReadOnlySet<(IpFamily Family, UInt128 Address)> Set)
{
    public static readonly BoardAddresses None = new(0, new HashSet<(IpFamily, UInt128)>());

    /// <summary>Whether <paramref name="address"/> is one of the board's own now: a local route of the local table of
    /// <paramref name="tables"/> (false without tables). Per frame: no lock, no allocation.</summary>
    public static bool IsLocal(IFibTables? tables, IpFamily family, ReadOnlySpan<byte> address) =>
        tables is not null && tables.TryLookupRoute(family, address, Interop.NetlinkRoute.RT_TABLE_LOCAL, out var route) && route.Kind == RouteKind.Local;
}
