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
    public bool Has(int family) => (family == IpFamily.V4 ? _v4Lengths : _v6Lengths).Length > 0;

    /// <summary>The value of the longest prefix holding <paramref name="address"/> (4 or 16 bytes, network order);
    /// null when none does or the family is neither IPv4 nor IPv6.</summary>
    public T? Lookup(int family, ReadOnlySpan<byte> address)
    {
        if (family == IpFamily.V4) return address.Length >= 4 ? Lookup(_v4, _v4Lengths, IpFamily.V4, IpFamily.Read(IpFamily.V4, address)) : null;
        if (family == IpFamily.V6) return address.Length >= 16 ? Lookup(_v6, _v6Lengths, IpFamily.V6, IpFamily.Read(IpFamily.V6, address)) : null;
        return null;
    }

    /// <summary>The value of the longest prefix holding <paramref name="address"/> (an integer, see <see cref="IpFamily"/>).</summary>
    public T? Lookup(int family, UInt128 address) =>
        family == IpFamily.V4 ? Lookup(_v4, _v4Lengths, family, address) : family == IpFamily.V6 ? Lookup(_v6, _v6Lengths, family, address) : null;

    private static T? Lookup(Dictionary<UInt128, T>?[] byLength, int[] lengths, int family, UInt128 address)
    {
        foreach (int length in lengths)
            if (byLength[length]!.TryGetValue(IpFamily.Mask(family, address, length), out var value)) return value;
        return null;
    }

    /// <summary>The value stored for exactly this prefix (not a longest match).</summary>
    public T? Exact(int family, UInt128 prefix, int length)
    {
        var byLength = family == IpFamily.V4 ? _v4 : _v6;
        return (uint)length < (uint)byLength.Length && byLength[length] is { } d && d.TryGetValue(IpFamily.Mask(family, prefix, length), out var v) ? v : null;
    }

    /// <summary>Every prefix with its value (diagnostics, tests, filling a kernel LPM map; allocates).</summary>
    public IEnumerable<(int Family, UInt128 Prefix, int Length, T Value)> Entries()
    {
        for (int l = 0; l < _v4.Length; l++)
            foreach (var (k, v) in _v4[l] ?? []) yield return (IpFamily.V4, k, l, v);
        for (int l = 0; l < _v6.Length; l++)
            foreach (var (k, v) in _v6[l] ?? []) yield return (IpFamily.V6, k, l, v);
    }

    /// <summary>Collects prefixes, then <see cref="Build"/> makes the immutable table.</summary>
    public sealed class Builder
    {
        private readonly Dictionary<UInt128, T>?[] _v4 = new Dictionary<UInt128, T>?[33];
        private readonly Dictionary<UInt128, T>?[] _v6 = new Dictionary<UInt128, T>?[129];

        /// <summary>Adds a prefix (host bits are cleared); false when that exact prefix is there already (kept).</summary>
        public bool TryAdd(int family, UInt128 prefix, int length, T value)
        {
            var byLength = family == IpFamily.V4 ? _v4 : family == IpFamily.V6 ? _v6 : throw new ArgumentException($"address family {family} is neither AF_INET nor AF_INET6");
            if ((uint)length >= (uint)byLength.Length) throw new ArgumentOutOfRangeException(nameof(length), $"prefix length {length} is not in 0..{byLength.Length - 1}");
            return (byLength[length] ??= []).TryAdd(IpFamily.Mask(family, prefix, length), value);
        }

        public PrefixTable<T> Build() =>
            new([.. _v4.Select(d => d is null ? null : new Dictionary<UInt128, T>(d))], [.. _v6.Select(d => d is null ? null : new Dictionary<UInt128, T>(d))]);
    }
}
