using Appliance.Bpf.Routing;

namespace Appliance.Datapath.Routing;

/// <summary>The board's own addresses (the local table's host entries: `ip route show table local type local`) at
/// one moment. <paramref name="Version"/> grows with every change, so a reader handed two snapshots in the wrong
/// order keeps the newer.</summary>
public sealed record BoardAddresses(long Version, IReadOnlySet<(IpFamily Family, UInt128 Address)> Set)
{
    public static readonly BoardAddresses None = new(0, new HashSet<(IpFamily, UInt128)>());
}
