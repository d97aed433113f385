using Appliance.Bpf.Routing;

namespace Appliance.Datapath.Routing;

/// <summary>Longest-prefix match over IPv4 and IPv6 prefixes: one hash table per prefix length in use, probed from
/// the longest length down, so a lookup costs at most one probe per distinct length (a handful on a real table), never
/// a scan of the entries. Immutable once built (<see cref="Builder"/>): readers on any thread take it as a snapshot,
/// and a lookup allocates nothing.</summary>
public sealed class PrefixTable<T> where T : class
{
    public static readonly PrefixTable<T> Empty = new Builder().Build();

    private readonly Dictionary<UInt128, T>?[] _v4, _v6;
    private readonly int[] _v4Lengths, _v6Lengths;

    private PrefixTable(Dictionary<UInt128, T>?[] v4, Dictionary<UInt128, T>?[] v6)
    {
        _v4 = v4;
        _v6 = v6;
        _v4Lengths = Lengths(v4);
        _v6Lengths = Lengths(v6);
        Count = v4.Sum(d => d?.Count ?? 0) + v6.Sum(d => d?.Count ?? 0);
    }

    private static int[] Lengths(Dictionary<UInt128, T>?[] byLength) =>
        [.. Enumerable.Range(0, byLength.Length).Reverse().Where(l => byLength[l] is { Count: > 0 })];

    /// <summary>Prefixes in the table (both families).</summary>
    public int Count { get; }

    /// <summary>Whether the family has any prefix (an uplink with IPv4 tenants only skips IPv6 frames at once).</summary>
    public bool Has(IpFamily family) => (family == IpFamily.Inet ? _v4Lengths : _v6Lengths).Length > 0;

    /// <summary>The value of the longest prefix holding <paramref name="address"/> (4 or 16 bytes, network order);
    /// null when none does or the family is neither IPv4 nor IPv6.</summary>
    public T? Lookup(IpFamily family, ReadOnlySpan<byte> address)
    {
        if (family == IpFamily.Inet) return address.Length >= 4 ? Lookup(_v4, _v4Lengths, IpFamily.Inet, IpNumbers.Read(IpFamily.Inet, address)) : null;
        if (family == IpFamily.Inet6) return address.Length >= 16 ? Lookup(_v6, _v6Lengths, IpFamily.Inet6, IpNumbers.Read(IpFamily.Inet6, address)) : null;
        return null;
    }

    /// <summary>The value of the longest prefix holding <paramref name="address"/> (an integer, see <see cref="IpFamily"/>).</summary>
    public T? Lookup(IpFamily family, UInt128 address) =>
        family == IpFamily.Inet ? Lookup(_v4, _v4Lengths, family, address) : family == IpFamily.Inet6 ? Lookup(_v6, _v6Lengths, family, address) : null;

    private static T? Lookup(Dictionary<UInt128, T>?[] byLength, int[] lengths, IpFamily family, UInt128 address)
    {
        foreach (int length in lengths)
            if (byLength[length]!.TryGetValue(IpNumbers.Mask(family, address, length), out var value)) return value;
        return null;
    }

    /// <summary>The values of every prefix holding <paramref name="address"/>, longest first: start with
    /// <paramref name="position"/> 0 and call again with the position it left until it returns false (no allocation).</summary>
    public bool NextMatch(IpFamily family, UInt128 address, ref int position, out T? value)
    {
        var (byLength, lengths) = family == IpFamily.Inet ? (_v4, _v4Lengths) : family == IpFamily.Inet6 ? (_v6, _v6Lengths) : (null, []);
        while (position < lengths.Length)
        {
            int length = lengths[position++];
            if (byLength![length]!.TryGetValue(IpNumbers.Mask(family, address, length), out value)) return true;
        }
        value = null;
        return false;
    }

    /// <summary>Every prefix with its value (diagnostics, tests, filling a kernel LPM map; allocates).</summary>
    public IEnumerable<(IpFamily Family, UInt128 Prefix, int Length, T Value)> Entries()
    {
        for (int l = 0; l < _v4.Length; l++)
            foreach (var (k, v) in _v4[l] ?? []) yield return (IpFamily.Inet, k, l, v);
        for (int l = 0; l < _v6.Length; l++)
            foreach (var (k, v) in _v6[l] ?? []) yield return (IpFamily.Inet6, k, l, v);
    }

    /// <summary>Collects prefixes, then <see cref="Build"/> makes the immutable table.</summary>
    public sealed class Builder
    {
        private readonly Dictionary<UInt128, T>?[] _v4 = new Dictionary<UInt128, T>?[33];
        private readonly Dictionary<UInt128, T>?[] _v6 = new Dictionary<UInt128, T>?[129];

        /// <summary>Adds a prefix (host bits are cleared); false when that exact prefix is there already (kept).</summary>
        public bool TryAdd(IpFamily family, UInt128 prefix, int length, T value)
        {
            var byLength = family == IpFamily.Inet ? _v4 : family == IpFamily.Inet6 ? _v6 : throw new ArgumentException($"address family {family} is neither AF_INET nor AF_INET6");
            if ((uint)length >= (uint)byLength.Length) throw new ArgumentOutOfRangeException(nameof(length), $"prefix length {length} is not in 0..{byLength.Length - 1}");
            return (byLength[length] ??= []).TryAdd(IpNumbers.Mask(family, prefix, length), value);
        }

        public PrefixTable<T> Build() =>
            new([.. _v4.Select(d => d is null ? null : new Dictionary<UInt128, T>(d))], [.. _v6.Select(d => d is null ? null : new Dictionary<UInt128, T>(d))]);
    }
}
