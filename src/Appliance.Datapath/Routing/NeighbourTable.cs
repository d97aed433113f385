using Appliance.Bpf.Routing;
using Appliance.Config;
using Appliance.Interop;

namespace Appliance.Datapath.Routing;

/// <summary>A neighbour of the board's kernel table: its link-layer address and NUD state.</summary>
public sealed record Neighbour(IpFamily Family, int Ifindex, UInt128 Address, MacAddress Mac, ushort State)
{
    /// <summary>The address can be used (reachable, stale, delay, probe, permanent, noarp), as the kernel would send to it.</summary>
    public bool Usable => (State & NetlinkRoute.NUD_VALID) != 0;

    /// <summary>The kernel is resolving or confirming it already: asking again is pointless.</summary>
    public bool InProgress => (State & (NetlinkRoute.NUD_INCOMPLETE | NetlinkRoute.NUD_DELAY | NetlinkRoute.NUD_PROBE)) != 0;

    /// <summary>Usable but unconfirmed (stale): worth asking the kernel to confirm it again.</summary>
    public bool Stale => (State & NetlinkRoute.NUD_STALE) != 0;
}

/// <summary>Key of a neighbour: the interface, the family and the address.</summary>
public readonly record struct NeighbourKey(int Ifindex, IpFamily Family, UInt128 Address);

/// <summary>An immutable snapshot of the kernel's neighbour table (ARP and NDISC) of the appliance's namespace.</summary>
public sealed class NeighbourTable
{
    public static readonly NeighbourTable Empty = new(new Dictionary<NeighbourKey, Neighbour>());

    private readonly Dictionary<NeighbourKey, Neighbour> _entries;

    public NeighbourTable(Dictionary<NeighbourKey, Neighbour> entries) => _entries = entries;

    public int Count => _entries.Count;

    /// <summary>The entry for the neighbour, usable or not; null when the kernel has none.</summary>
    public Neighbour? Find(IpFamily family, int ifindex, UInt128 address) =>
        _entries.TryGetValue(new NeighbourKey(ifindex, family, address), out var n) ? n : null;

    public IEnumerable<Neighbour> Entries => _entries.Values;
}
