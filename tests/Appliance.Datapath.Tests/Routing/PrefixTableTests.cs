using System.Net;
using Appliance.Bpf.Routing;
using Appliance.Datapath.Routing;
using Xunit;

namespace Appliance.Datapath.Tests.Routing;

public sealed class PrefixTableTests
{
    private static byte[] A(string ip) => IPAddress.Parse(ip).GetAddressBytes();

    private static PrefixTable<string> Table(params string[] prefixes)
    {
        var b = new PrefixTable<string>.Builder();
        foreach (var p in prefixes)
        {
            var (address, length) = (IPAddress.Parse(p.Split('/')[0]), int.Parse(p.Split('/')[1]));
            Assert.True(b.TryAdd(IpNumbers.Of(address), IpNumbers.Read(address), length, p));
        }
        return b.Build();
    }

    [Fact]
    public void The_longest_prefix_wins_in_both_families()
    {
        var t = Table("0.0.0.0/0", "10.0.0.0/8", "10.1.0.0/16", "10.1.2.3/32", "::/0", "fd00::/16", "fd00:1::/32", "fd00:1::5/128");
        Assert.Equal("10.1.2.3/32", t.Lookup(IpFamily.Inet, A("10.1.2.3")));
        Assert.Equal("10.1.0.0/16", t.Lookup(IpFamily.Inet, A("10.1.2.4")));
        Assert.Equal("10.0.0.0/8", t.Lookup(IpFamily.Inet, A("10.200.0.1")));
        Assert.Equal("0.0.0.0/0", t.Lookup(IpFamily.Inet, A("192.0.2.1")));
        Assert.Equal("fd00:1::5/128", t.Lookup(IpFamily.Inet6, A("fd00:1::5")));
        Assert.Equal("fd00:1::/32", t.Lookup(IpFamily.Inet6, A("fd00:1::6")));
        Assert.Equal("fd00::/16", t.Lookup(IpFamily.Inet6, A("fd00:2::1")));
        Assert.Equal("::/0", t.Lookup(IpFamily.Inet6, A("2001:db8::1")));
        Assert.Equal(8, t.Count);
    }

    [Fact]
    public void No_match_and_other_families_give_null()
    {
        var t = Table("10.0.0.0/24", "fd00::/64");
        Assert.Null(t.Lookup(IpFamily.Inet, A("10.0.1.1")));
        Assert.Null(t.Lookup(IpFamily.Inet6, A("fd00:0:0:1::1")));
        Assert.Null(t.Lookup(IpFamily.Unspec, A("10.0.0.1")));
        Assert.Null(t.Lookup(IpFamily.Inet, new byte[3]));
        Assert.True(t.Has(IpFamily.Inet));
        Assert.False(Table("10.0.0.0/24").Has(IpFamily.Inet6));
    }

    [Fact]
    public void Host_bits_are_cleared_and_a_duplicate_prefix_is_refused()
    {
        var b = new PrefixTable<string>.Builder();
        Assert.True(b.TryAdd(IpFamily.Inet, IpNumbers.Read(IPAddress.Parse("10.1.2.3")), 16, "first"));
        Assert.False(b.TryAdd(IpFamily.Inet, IpNumbers.Read(IPAddress.Parse("10.1.9.9")), 16, "second"));
        var t = b.Build();
        Assert.Equal("first", t.Lookup(IpFamily.Inet, A("10.1.200.1")));
        Assert.Equal((IpFamily.Inet, IpNumbers.Read(IPAddress.Parse("10.1.0.0")), 16, "first"), Assert.Single(t.Entries()));
        Assert.Throws<ArgumentOutOfRangeException>(() => b.TryAdd(IpFamily.Inet, UInt128.Zero, 33, "x"));
    }

    [Fact]
    public void The_resolve_queue_hands_over_in_order_and_counts_what_does_not_fit()
    {
        var q = new ResolveQueue(4);
        for (int i = 0; i < 4; i++) Assert.True(q.TryEnqueue(new NeighbourKey(i, IpFamily.Inet, (UInt128)i)));
        Assert.False(q.TryEnqueue(new NeighbourKey(9, IpFamily.Inet, 9)));
        Assert.Equal(1, q.Dropped);
        for (int i = 0; i < 4; i++)
        {
            Assert.True(q.TryDequeue(out var k));
            Assert.Equal(i, k.Ifindex);
        }
        Assert.False(q.TryDequeue(out _));
    }

    [Fact]
    public void The_resolve_queue_loses_nothing_under_concurrent_producers()
    {
        var q = new ResolveQueue(1 << 16);
        const int producers = 4, each = 5000;
        var threads = Enumerable.Range(0, producers).Select(p => new Thread(() =>
        {
            for (int i = 0; i < each; i++) Assert.True(q.TryEnqueue(new NeighbourKey(p, IpFamily.Inet6, (UInt128)i)));
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        var seen = new HashSet<(int, UInt128)>();
        while (q.TryDequeue(out var k)) Assert.True(seen.Add((k.Ifindex, k.Address)));
        Assert.Equal(producers * each, seen.Count);
    }
}
