using System.Net;
using Appliance.Bpf.Routing;
using Appliance.Datapath.Forwarding;
using Xunit;

namespace Appliance.Datapath.Tests.Forwarding;

/// <summary>The table of addresses hosts outside a port claimed (<see cref="OutsideAddresses"/>): an entry lives its
/// lifetime from when it was last seen, IPv4 and IPv6 are kept apart, the table is bounded (the entry seen longest ago
/// makes room) and nothing allocates.</summary>
public sealed class OutsideAddressesTests
{
    private static byte[] A(string address) => IPAddress.Parse(address).GetAddressBytes();

    private static IpFamily F(string address) => address.Contains(':') ? IpFamily.Inet6 : IpFamily.Inet;

    [Fact]
    public void An_address_is_outside_for_its_lifetime_after_it_was_last_seen()
    {
        var t = new OutsideAddresses();
        long now = 5_000_000;
        t.Saw(IpFamily.Inet, A("192.0.2.1"), now);
        Assert.True(t.Has(IpFamily.Inet, A("192.0.2.1"), now));
        Assert.True(t.Has(IpFamily.Inet, A("192.0.2.1"), now + OutsideAddresses.Lifetime - 1));
        Assert.False(t.Has(IpFamily.Inet, A("192.0.2.1"), now + OutsideAddresses.Lifetime));
        t.Saw(IpFamily.Inet, A("192.0.2.1"), now + 100); // heard again: its lifetime starts again
        Assert.True(t.Has(IpFamily.Inet, A("192.0.2.1"), now + OutsideAddresses.Lifetime));
        Assert.False(t.Has(IpFamily.Inet, A("192.0.2.2"), now));
    }

    [Theory]
    [InlineData("192.0.2.1", "::ffff:192.0.2.2")]
    [InlineData("fe80::1", "fe80::2")]
    [InlineData("fe80::1", "fe81::1")]
    [InlineData("2001:db8::1", "2001:db8:0:1::1")]
    public void Addresses_are_told_apart(string seen, string other)
    {
        var t = new OutsideAddresses();
        t.Saw(F(seen), A(seen), 1);
        Assert.True(t.Has(F(seen), A(seen), 1));
        Assert.False(t.Has(F(other), A(other), 1));
    }

    [Fact]
    public void The_unspecified_address_and_a_short_span_are_never_recorded()
    {
        var t = new OutsideAddresses();
        t.Saw(IpFamily.Inet6, A("::"), 1);
        Assert.False(t.Has(IpFamily.Inet6, A("::"), 1));
        t.Saw(IpFamily.Inet6, A("192.0.2.1"), 1); // 4 bytes named IPv6: not an address
        Assert.False(t.Has(IpFamily.Inet6, A("192.0.2.1"), 1));
    }

    /// <summary>A flood of addresses from outside (a scan, a hostile host) fills at most the fixed table: new ones push
    /// out those seen longest ago, and what was heard last stays.</summary>
    [Fact]
    public void The_table_is_bounded_and_the_oldest_makes_room()
    {
        var t = new OutsideAddresses();
        var address = new byte[16];
        address[0] = 0x20;
        address[1] = 0x01;
        for (int i = 0; i < 4 * OutsideAddresses.Capacity; i++)
        {
            BitConverter.TryWriteBytes(address.AsSpan(12), i);
            t.Saw(IpFamily.Inet6, address, i + 1);
        }
        int kept = 0, recent = 0;
        for (int i = 0; i < 4 * OutsideAddresses.Capacity; i++)
        {
            BitConverter.TryWriteBytes(address.AsSpan(12), i);
            if (!t.Has(IpFamily.Inet6, address, 4 * OutsideAddresses.Capacity)) continue;
            kept++;
            if (i >= 3 * OutsideAddresses.Capacity) recent++;
        }
        Assert.True(kept <= OutsideAddresses.Capacity, $"{kept} kept");
        Assert.True(recent > OutsideAddresses.Capacity * 3 / 4, $"{recent} of the last {OutsideAddresses.Capacity} kept");
        BitConverter.TryWriteBytes(address.AsSpan(12), 4 * OutsideAddresses.Capacity - 1);
        Assert.True(t.Has(IpFamily.Inet6, address, 4 * OutsideAddresses.Capacity));
    }

    [Fact]
    public void Recording_and_looking_up_allocate_nothing()
    {
        var t = new OutsideAddresses();
        byte[] v4 = A("192.0.2.1"), v6 = A("fe80::1"), other = A("2001:db8::9");
        t.Saw(IpFamily.Inet, v4, 1);
        long before = GC.GetAllocatedBytesForCurrentThread();
        int found = 0;
        for (int i = 0; i < 10_000; i++)
        {
            t.Saw(IpFamily.Inet6, v6, i);
            found += (t.Has(IpFamily.Inet, v4, 2) ? 1 : 0) + (t.Has(IpFamily.Inet6, other, i) ? 1 : 0);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(10_000, found);
    }
}
