using System.Buffers.Binary;
using Appliance.Bpf.Routing;
using Appliance.Datapath.Diagnostics;
using Appliance.Interop;

namespace Appliance.Datapath.Xdp.Rules;

/// <summary>The two LPM_TRIE maps of a port's L3 prefixes that its steering rules look up (one per family: the
/// kernel's key is { u32 prefixlen; u8 addr[4 or 16]; }), filled by the datapath with every L3 pair's prefixes on
/// the port (<see cref="Set"/>, value <see cref="Tenant"/>) and, as full-length entries with value
/// <see cref="Board"/>, the board's own addresses that fall inside one of them (<see cref="SetBoardAddresses"/>):
/// the longest match then leaves the board's traffic to the kernel, as the kernel's local table wins over a route.
/// Each map holds <see cref="MaxPrefixes"/> entries: the tenants' prefixes come first; when the board's addresses
/// inside them do not fit too, those left over are left out (counted in <see cref="LeftOut"/>, logged as an error;
/// the datapath still keeps frames to them from the tenant, see <see cref="HoldsBoardAddresses"/>).
/// Set from the reconcile path and the routing-table thread (a lock keeps the two apart). Dispose closes them.</summary>
public sealed class L3PrefixMaps : IDisposable
{
    public const int MaxPrefixes = Appliance.Config.ConfigLimits.MaxL3PrefixesPerUplink, V4KeySize = 8, V6KeySize = 20;
    /// <summary>The values: a tenant's prefix (to the socket), one of the board's addresses (to the kernel).</summary>
    public const uint Tenant = 0, Board = 1;
    private const int MapTypeLpmTrie = 11;
    private const uint NoPrealloc = 1;

    private readonly Lock _gate = new();
    private readonly Dictionary<(IpFamily Family, UInt128 Prefix, int Length), uint> _present = [];
    private HashSet<(IpFamily Family, UInt128 Prefix, int Length)> _tenants = [];
    private int _boardEntries, _boardWanted, _leftOut;
    private Datapath.Routing.BoardAddresses _board = Datapath.Routing.BoardAddresses.None;

    public int V4Fd { get; private set; } = -1;
    public int V6Fd { get; private set; } = -1;

    private readonly string _port;

    /// <param name="name">The maps' kernel name (a 4 or 6 appended).</param>
    /// <param name="port">The interface whose steering looks them up (for the log).</param>
    public L3PrefixMaps(string name, string port)
    {
        _port = port;
        try
        {
            V4Fd = BpfSyscall.CreateMap(MapTypeLpmTrie, V4KeySize, 4, MaxPrefixes, $"{name}4", NoPrealloc);
            V6Fd = BpfSyscall.CreateMap(MapTypeLpmTrie, V6KeySize, 4, MaxPrefixes, $"{name}6", NoPrealloc);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The tenants' prefixes in the maps now.</summary>
    public int Count
    {
        get { lock (_gate) return _tenants.Count; }
    }

    /// <summary>Whether any of the board's addresses is inside a tenant's prefix now, in the maps or left out of them
    /// (read per frame, without the lock: the datapath checks such addresses itself only then).</summary>
    public bool HoldsBoardAddresses => Volatile.Read(ref _boardWanted) != 0;

    /// <summary>The board's addresses in the maps now (those inside a tenant's prefix).</summary>
    public int BoardCount => Volatile.Read(ref _boardEntries);

    /// <summary>Entries that did not fit (more than <see cref="MaxPrefixes"/> in a family's map), 0 normally.</summary>
    public int LeftOut => Volatile.Read(ref _leftOut);

    /// <summary>Makes the tenants' entries exactly <paramref name="prefixes"/> (the board's addresses inside them kept
    /// above them). Configuration time: throws on error.</summary>
    public void Set(IEnumerable<(IpFamily Family, UInt128 Prefix, int Length)> prefixes)
    {
        lock (_gate)
        {
            _tenants = prefixes.ToHashSet();
            Apply();
        }
    }

    /// <summary>Takes the board's own addresses (the local table's host entries); those inside a tenant's prefix
    /// become full-length entries that the steering leaves to the kernel. A set older than the one held is ignored
    /// (the reconcile path and the routing-table thread may pass theirs in either order). Throws on error.</summary>
    public void SetBoardAddresses(Datapath.Routing.BoardAddresses addresses)
    {
        lock (_gate)
        {
            if (addresses.Version < _board.Version) return;
            _board = addresses;
            Apply();
        }
    }

    /// <summary>Brings the maps to the wanted entries: adds and changes first, then removes the ones that went (an
    /// entry that stays is never absent meanwhile) — removes first in a family whose map would overflow otherwise.
    /// At most <see cref="MaxPrefixes"/> entries per family: the tenants' prefixes first, then the board's addresses.</summary>
    private void Apply()
    {
        if (V4Fd < 0) return; // disposed: a late call from the routing-table thread
        var want = new Dictionary<(IpFamily Family, UInt128 Prefix, int Length), uint>();
        int leftOut = 0, boardWanted = 0, v4 = 0, v6 = 0;
        bool Fits(IpFamily family) => (family == IpFamily.Inet ? v4++ : v6++) < MaxPrefixes;
        foreach (var p in _tenants)
            if (Fits(p.Family)) want[p] = Tenant;
            else leftOut++;
        foreach (var (family, address) in _board.Set)
        {
            if (!_tenants.Any(p => p.Family == family && Routing.IpNumbers.Mask(family, address, p.Length) == p.Prefix)) continue;
            boardWanted++;
            var entry = (family, address, Routing.IpNumbers.MaxPrefix(family));
            if (want.ContainsKey(entry) || Fits(family)) want[entry] = Board; // over a tenant's own full-length prefix too
            else leftOut++;
        }
        Volatile.Write(ref _boardWanted, Math.Max(boardWanted, _boardWanted)); // the datapath's own check: on before the maps change
        Span<byte> key = stackalloc byte[V6KeySize];
        foreach (var family in new[] { IpFamily.Inet, IpFamily.Inet6 })
        {
            int adds = want.Keys.Count(p => p.Family == family && !_present.ContainsKey(p));
            if (_present.Keys.Count(p => p.Family == family) + adds > MaxPrefixes) Remove(want, family, key);
        }
        Span<byte> value = stackalloc byte[4];
        foreach (var (p, v) in want)
        {
            if (_present.TryGetValue(p, out uint had) && had == v) continue;
            BinaryPrimitives.WriteUInt32LittleEndian(value, v);
            BpfSyscall.UpdateElem(Fd(p.Family), Key(p, key), value);
            _present[p] = v;
        }
        Volatile.Write(ref _boardEntries, _present.Count(p => p.Value == Board));
        Remove(want, null, key);
        Volatile.Write(ref _boardEntries, _present.Count(p => p.Value == Board));
        if (leftOut != _leftOut && leftOut > 0)
            Log.Error("steering", "L3 prefix maps full: entries left out", ("port", _port), ("leftOut", leftOut), ("capacity", MaxPrefixes),
                ("tenantPrefixes", _tenants.Count), ("boardAddresses", boardWanted));
        else if (leftOut == 0 && _leftOut > 0)
            Log.Info("steering", "L3 prefix maps hold every entry again", ("port", _port));
        Volatile.Write(ref _leftOut, leftOut);
        Volatile.Write(ref _boardWanted, boardWanted);
    }

    /// <summary>Deletes the present entries (of <paramref name="family"/>, or all) that are not wanted.</summary>
    private void Remove(Dictionary<(IpFamily Family, UInt128 Prefix, int Length), uint> want, IpFamily? family, Span<byte> key)
    {
        foreach (var p in _present.Keys.Where(p => (family is null || p.Family == family) && !want.ContainsKey(p)).ToList())
        {
            BpfSyscall.DeleteElem(Fd(p.Family), Key(p, key));
            _present.Remove(p);
        }
    }

    private int Fd(IpFamily family) => family == IpFamily.Inet ? V4Fd : V6Fd;

    private static Span<byte> Key((IpFamily Family, UInt128 Prefix, int Length) p, Span<byte> key)
    {
        key.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(key, (uint)p.Length);
        Routing.IpNumbers.Write(p.Family, p.Prefix, key[4..]);
        return key[..(p.Family == IpFamily.Inet ? V4KeySize : V6KeySize)];
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (V4Fd >= 0) LibC.Close(V4Fd);
            if (V6Fd >= 0) LibC.Close(V6Fd);
            V4Fd = V6Fd = -1;
        }
    }
}
