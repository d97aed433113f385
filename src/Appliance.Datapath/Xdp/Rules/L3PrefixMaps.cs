using System.Buffers.Binary;
using Appliance.Bpf.Routing;
using Appliance.Interop;

namespace Appliance.Datapath.Xdp.Rules;

/// <summary>The two LPM_TRIE maps of a port's L3 prefixes that its steering rules look up (one per family: the
/// kernel's key is { u32 prefixlen; u8 addr[4 or 16]; }), filled by the datapath with every L3 pair's prefixes on
/// the port (<see cref="Set"/>). Dispose closes them.</summary>
public sealed class L3PrefixMaps : IDisposable
{
    public const int MaxPrefixes = 1024, V4KeySize = 8, V6KeySize = 20;
    private const int MapTypeLpmTrie = 11;
    private const uint NoPrealloc = 1;

    private readonly HashSet<(IpFamily Family, UInt128 Prefix, int Length)> _present = [];

    public int V4Fd { get; private set; } = -1;
    public int V6Fd { get; private set; } = -1;

    public L3PrefixMaps(string name)
    {
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

    /// <summary>The prefixes in the maps now.</summary>
    public int Count => _present.Count;

    /// <summary>Makes the maps hold exactly <paramref name="prefixes"/>: adds the new ones first, then removes the
    /// ones that went (a prefix that stays is never absent meanwhile). Configuration time: throws on error.</summary>
    public void Set(IEnumerable<(IpFamily Family, UInt128 Prefix, int Length)> prefixes)
    {
        var want = prefixes.ToHashSet();
        Span<byte> key = stackalloc byte[V6KeySize];
        Span<byte> value = stackalloc byte[4];
        value.Clear();
        foreach (var p in want.Where(p => !_present.Contains(p)).ToList())
        {
            BpfSyscall.UpdateElem(Fd(p.Family), Key(p, key), value);
            _present.Add(p);
        }
        foreach (var p in _present.Where(p => !want.Contains(p)).ToList())
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
        if (V4Fd >= 0) LibC.Close(V4Fd);
        if (V6Fd >= 0) LibC.Close(V6Fd);
        V4Fd = V6Fd = -1;
    }
}
