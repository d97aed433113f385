using System.Net;
using Appliance.Bpf.Routing;
using Appliance.Datapath.Forwarding;
using Xunit;

namespace Appliance.Datapath.Tests.Forwarding;

/// <summary>Who on a port's LAN claimed an address lately (<see cref="ClaimedAddresses"/>): an entry lives its lifetime
/// from when it was last heard, IPv4 and IPv6 are kept apart, the outside takes an address from a tenant but a tenant
/// never from someone else while it lives, a tenant holds at most its share, nobody pushes out another's live entry,
/// a reload forgets the tenants that left, and nothing allocates.</summary>
public sealed class ClaimedAddressesTests
{
    private const int Outside = ClaimedAddresses.Outside;

    private static byte[] A(string address) => IPAddress.Parse(address).GetAddressBytes();

    private static IpFamily F(string address) => address.Contains(':') ? IpFamily.Inet6 : IpFamily.Inet;

    private static int? Owner(ClaimedAddresses t, string address, long now) =>
        t.TryOwner(F(address), A(address), now, out int owner) ? owner : null;

    private static byte[] Numbered(int i)
    {
        var a = A("2001:db8::");
        BitConverter.TryWriteBytes(a.AsSpan(12), i);
        return a;
    }

    [Fact]
    public void A_claim_counts_for_its_lifetime_after_it_was_last_heard()
    {
        var t = new ClaimedAddresses();
        long now = 5_000_000;
        t.Saw(Outside, IpFamily.Inet, A("192.0.2.1"), now);
        Assert.Equal(Outside, Owner(t, "192.0.2.1", now));
        Assert.Equal(Outside, Owner(t, "192.0.2.1", now + ClaimedAddresses.Lifetime - 1));
        Assert.Null(Owner(t, "192.0.2.1", now + ClaimedAddresses.Lifetime));
        long again = now + System.Diagnostics.Stopwatch.Frequency; // heard again (refreshed at most once a second): its lifetime starts again
        t.Saw(Outside, IpFamily.Inet, A("192.0.2.1"), again);
        Assert.Equal(Outside, Owner(t, "192.0.2.1", now + ClaimedAddresses.Lifetime));
        Assert.Null(Owner(t, "192.0.2.1", again + ClaimedAddresses.Lifetime));
        Assert.Null(Owner(t, "192.0.2.2", now));
    }

    [Theory]
    [InlineData("192.0.2.1", "::ffff:192.0.2.2")]
    [InlineData("fe80::1", "fe80::2")]
    [InlineData("fe80::1", "fe81::1")]
    [InlineData("2001:db8::1", "2001:db8:0:1::1")]
    public void Addresses_are_told_apart(string seen, string other)
    {
        var t = new ClaimedAddresses();
        t.Saw(3, F(seen), A(seen), 1);
        Assert.Equal(3, Owner(t, seen, 1));
        Assert.Null(Owner(t, other, 1));
    }

    [Fact]
    public void The_unspecified_address_and_a_short_span_are_never_recorded()
    {
        var t = new ClaimedAddresses();
        t.Saw(Outside, IpFamily.Inet6, A("::"), 1);
        Assert.Null(Owner(t, "::", 1));
        t.Saw(Outside, IpFamily.Inet6, A("192.0.2.1"), 1); // 4 bytes named IPv6: not an address
        Assert.False(t.TryOwner(IpFamily.Inet6, A("192.0.2.1"), 1, out _));
    }

    /// <summary>A host outside that claims a tenant's address takes it (as a MAC moves to where it was last seen); a
    /// tenant never takes what the outside or another tenant claimed until that claim is a lifetime old.</summary>
    [Fact]
    public void The_outside_takes_an_address_from_a_tenant_and_a_tenant_takes_none_while_it_lives()
    {
        var t = new ClaimedAddresses();
        t.Saw(1, IpFamily.Inet, A("10.0.0.5"), 10);
        t.Saw(2, IpFamily.Inet, A("10.0.0.5"), 20);
        Assert.Equal(1, Owner(t, "10.0.0.5", 20));
        t.Saw(Outside, IpFamily.Inet, A("10.0.0.5"), 30);
        Assert.Equal(Outside, Owner(t, "10.0.0.5", 30));
        t.Saw(1, IpFamily.Inet, A("10.0.0.5"), 40);
        Assert.Equal(Outside, Owner(t, "10.0.0.5", 40));
        long later = 30 + ClaimedAddresses.Lifetime;
        t.Saw(1, IpFamily.Inet, A("10.0.0.5"), later);
        Assert.Equal(1, Owner(t, "10.0.0.5", later));
    }

    /// <summary>A tenant claiming address after address (a scan, a hostile tenant) keeps at most its share: its own
    /// oldest make room, and what others claimed stays.</summary>
    [Fact]
    public void A_tenant_holds_at_most_its_share_and_pushes_out_nobody_else()
    {
        var t = new ClaimedAddresses();
        for (int i = 0; i < 1000; i++) t.Saw(Outside, IpFamily.Inet6, Numbered(i), 1);
        for (int i = 0; i < 50; i++) t.Saw(2, IpFamily.Inet6, Numbered(100_000 + i), 1);
        for (int i = 0; i < 20_000; i++) t.Saw(1, IpFamily.Inet6, Numbered(200_000 + i), 2);
        int held = 0;
        for (int i = 0; i < 20_000; i++) held += t.TryOwner(IpFamily.Inet6, Numbered(200_000 + i), 2, out int o) && o == 1 ? 1 : 0;
        Assert.InRange(held, 1, ClaimedAddresses.PerTenant);
        for (int i = 0; i < 1000; i++) Assert.True(t.TryOwner(IpFamily.Inet6, Numbered(i), 2, out int o) && o == Outside, $"outside {i}");
        for (int i = 0; i < 50; i++) Assert.True(t.TryOwner(IpFamily.Inet6, Numbered(100_000 + i), 2, out int o) && o == 2, $"tenant 2's {i}");
        // Its claims expire: after a lifetime (and the once-a-second sweep) it records new ones again.
        long later = 2 + ClaimedAddresses.Lifetime + System.Diagnostics.Stopwatch.Frequency;
        t.Saw(1, IpFamily.Inet6, Numbered(900_000), later);
        Assert.True(t.TryOwner(IpFamily.Inet6, Numbered(900_000), later, out int owner) && owner == 1);
    }

    /// <summary>The outside fills the table (a flood of addresses from a hostile host): new ones push out the outside's
    /// oldest, never a tenant's live entry.</summary>
    [Fact]
    public void The_outside_is_bounded_and_pushes_out_no_tenant()
    {
        var t = new ClaimedAddresses();
        for (int i = 0; i < 40; i++) t.Saw(1, IpFamily.Inet6, Numbered(500_000 + i), 1);
        for (int i = 0; i < 4 * ClaimedAddresses.Capacity; i++) t.Saw(Outside, IpFamily.Inet6, Numbered(i), i + 2);
        long now = 4 * ClaimedAddresses.Capacity + 2;
        int kept = 0;
        for (int i = 0; i < 4 * ClaimedAddresses.Capacity; i++) kept += t.TryOwner(IpFamily.Inet6, Numbered(i), now, out _) ? 1 : 0;
        Assert.True(kept <= ClaimedAddresses.Capacity - 40, $"{kept} kept");
        Assert.True(t.TryOwner(IpFamily.Inet6, Numbered(4 * ClaimedAddresses.Capacity - 1), now, out _));
        for (int i = 0; i < 40; i++) Assert.True(t.TryOwner(IpFamily.Inet6, Numbered(500_000 + i), now, out int o) && o == 1, $"tenant's {i}");
    }

    [Fact]
    public void A_tenant_that_leaves_the_port_is_forgotten()
    {
        var t = new ClaimedAddresses();
        t.Saw(1, IpFamily.Inet, A("10.0.0.1"), 1);
        t.Saw(2, IpFamily.Inet, A("10.0.0.2"), 1);
        t.Saw(Outside, IpFamily.Inet, A("10.0.0.3"), 1);
        t.Forget(pair => pair == 1);
        Assert.Null(Owner(t, "10.0.0.1", 1));
        Assert.Equal(2, Owner(t, "10.0.0.2", 1));
        Assert.Equal(Outside, Owner(t, "10.0.0.3", 1));
        t.Saw(2, IpFamily.Inet, A("10.0.0.1"), 2);
        Assert.Equal(2, Owner(t, "10.0.0.1", 2));
    }

    /// <summary>A lookup stops at the first slot of its window that never held an address; slots emptied since (a tenant
    /// forgotten on reload, a tenant's expired entries swept at its share) do not hide the addresses recorded past them.</summary>
    [Fact]
    public void Addresses_recorded_past_emptied_slots_stay_found()
    {
        var t = new ClaimedAddresses();
        // 40 tenants take their shares first (2560 of the 4096 slots), then the outside fills in after them: many of its
        // addresses lie past a tenant's slot in their probe windows.
        for (int pair = 1; pair <= 40; pair++)
            for (int i = 0; i < ClaimedAddresses.PerTenant; i++) t.Saw(pair, IpFamily.Inet6, Numbered(pair * 1000 + i), 1);
        for (int i = 0; i < 1200; i++) t.Saw(Outside, IpFamily.Inet6, Numbered(900_000 + i), 1);
        bool Held(int i, long now) => t.TryOwner(IpFamily.Inet6, Numbered(900_000 + i), now, out int o) && o == Outside;
        var held = Enumerable.Range(0, 1200).Where(i => Held(i, 1)).ToList();
        Assert.True(held.Count > 600, $"{held.Count} of the outside's 1200 recorded");

        t.Forget(pair => pair % 2 == 0); // empties 20 tenants' slots
        Assert.All(held, i => Assert.True(Held(i, 1), $"outside address {i} lost after the reload"));
        Assert.Null(t.TryOwner(IpFamily.Inet6, Numbered(2000), 1, out _) ? 0 : null);

        // Later: the outside is heard again, tenant 1's entries have expired, and its next claim sweeps them.
        long later = 2 + ClaimedAddresses.Lifetime;
        foreach (int i in held) t.Saw(Outside, IpFamily.Inet6, Numbered(900_000 + i), later);
        t.Saw(1, IpFamily.Inet6, Numbered(1_500_000), later);
        Assert.True(t.TryOwner(IpFamily.Inet6, Numbered(1_500_000), later, out int owner) && owner == 1);
        Assert.All(held, i => Assert.True(Held(i, later), $"outside address {i} lost after tenant 1's sweep"));
    }

    [Fact]
    public void Recording_and_looking_up_allocate_nothing()
    {
        var t = new ClaimedAddresses();
        byte[] v4 = A("192.0.2.1"), v6 = A("fe80::1"), other = A("2001:db8::9");
        t.Saw(2, IpFamily.Inet, v4, 1); // a tenant's: the outside's flood below does not push it out
        t.Saw(1, IpFamily.Inet6, v6, 1); // a tenant's first record makes its count
        byte[][] flood = [.. Enumerable.Range(0, 10_000).Select(Numbered)];
        long before = GC.GetAllocatedBytesForCurrentThread();
        int found = 0;
        for (int i = 0; i < 10_000; i++)
        {
            t.Saw(1, IpFamily.Inet6, v6, i);
            t.Saw(Outside, IpFamily.Inet6, flood[i], i);
            found += (t.TryOwner(IpFamily.Inet, v4, 2, out _) ? 1 : 0) + (t.TryOwner(IpFamily.Inet6, other, i, out _) ? 1 : 0);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(10_000, found);
    }
}
