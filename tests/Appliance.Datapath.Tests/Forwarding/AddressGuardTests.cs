using System.Buffers.Binary;
using System.Net;
using Appliance.Bpf.Routing;
using Appliance.Config;
using Appliance.Datapath.Forwarding;
using Appliance.Datapath.Replay;
using Appliance.Datapath.Runtime;
using Appliance.Datapath.Tests.Engine;
using Xunit;

namespace Appliance.Datapath.Tests.Forwarding;

/// <summary>What an L2 tenant may claim as its IP source, in ARP and in neighbour discovery (<see cref="AddressGuard"/>), on an offline
/// topology: tenants a and b (L2, configured addresses), c (L3, a /24 on the same uplink), the board's own addresses
/// from a table of local routes. A tenant's own and unknown addresses pass; the board's, b's and c's are refused, as
/// are link-layer addresses the tenant does not own, behind VLAN tags and IPv6 extension headers alike.</summary>
public sealed class AddressGuardTests
{
    private static readonly byte[] MacA = [0x02, 0, 0, 0, 0x0a, 0x01], MacB = [0x02, 0, 0, 0, 0x0a, 0x02], Stranger = [0x02, 0, 0, 0, 0x0a, 0x77];
    private static readonly byte[] Broadcast = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff], AllNodes = [0x33, 0x33, 0, 0, 0, 1];
    private static readonly string[] BoardLocal = ["10.9.0.254", "fd09::fe", "fe80::fe"];

    private static OfflineTopology Load()
    {
        var result = ConfigLoader.LoadBytes(System.Text.Encoding.UTF8.GetBytes("""
            {
              "board": "test",
              "ports": [{ "name": "eth0" }],
              "pairs": [
                { "name": "a", "mode": "l2", "uplink": "eth0",
                  "tenant": { "netns": "ta", "interface": "eth0", "mac": "02:00:00:00:0a:01", "addresses": ["10.9.0.5/24", "fd09::5/64"] } },
                { "name": "b", "mode": "l2", "uplink": "eth0",
                  "tenant": { "netns": "tb", "interface": "eth0", "mac": "02:00:00:00:0a:02", "addresses": ["10.9.0.6/24", "fd09::6/64"] } },
                { "name": "c", "mode": "l3", "uplink": "eth0",
                  "tenant": { "netns": "tc", "interface": "eth0", "addresses": ["10.9.7.1/24", "fd07::1/64"] } }
              ],
              "programs": []
            }
            """), "guard.json", ".");
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        return OfflineTopology.Build(result.Config!, ".");
    }

    /// <summary>The board's local table: a local route for each of <see cref="BoardLocal"/>, nothing else.</summary>
    private sealed class BoardTables : IFibTables
    {
        private byte[][] _local = [.. BoardLocal.Select(a => IPAddress.Parse(a).GetAddressBytes())];

        /// <summary>The local routes' snapshot, replaced by <see cref="AddLocal"/> as the kernel tables' is on a change.</summary>
        public object? RoutesVersion => _local;

        public void AddLocal(string address) => _local = [.. _local, IPAddress.Parse(address).GetAddressBytes()];

        public bool TryLookupRoute(IpFamily family, ReadOnlySpan<byte> destination, uint table, out FibRoute route)
        {
            route = default;
            if (table != 255) return false;
            foreach (var a in _local)
                if (a.AsSpan().SequenceEqual(destination)) route.Kind = RouteKind.Local;
            return true;
        }

        public bool TryLookupNeighbour(IpFamily family, int ifindex, ReadOnlySpan<byte> nextHop, Span<byte> mac) => false;
        public void RequestResolve(IpFamily family, int ifindex, ReadOnlySpan<byte> nextHop) { }
        public bool TryGetInterface(int ifindex, out FibInterface info)
        {
            info = default;
            return false;
        }
    }

    private static bool Refused(byte[] frame)
    {
        var offline = Load();
        var topology = offline.Topology;
        return new AddressGuard(new BoardTables()).Refuses(frame, topology.Pairs[0], topology.Ports[0], topology.Ports[0], topology);
    }

    /// <summary>An Ethernet/IPv4 ARP packet from tenant a's MAC (behind <paramref name="tags"/> 802.1Q tags).</summary>
    private static byte[] Arp(string sender, string target, ushort op = 1, byte[]? senderMac = null, ushort hardware = 1, int tags = 0)
    {
        var f = new byte[14 + 4 * tags + 28];
        Broadcast.CopyTo(f, 0);
        MacA.CopyTo(f, 6);
        for (int t = 0; t < tags; t++) BinaryPrimitives.WriteUInt32BigEndian(f.AsSpan(12 + 4 * t), (t == 0 && tags > 1 ? 0x88a8_0000u : 0x8100_0000u) | 100);
        var arp = f.AsSpan(12 + 4 * tags);
        BinaryPrimitives.WriteUInt16BigEndian(arp, 0x0806);
        arp = arp[2..];
        BinaryPrimitives.WriteUInt16BigEndian(arp, hardware);
        BinaryPrimitives.WriteUInt16BigEndian(arp[2..], 0x0800);
        arp[4] = 6;
        arp[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(arp[6..], op);
        (senderMac ?? MacA).CopyTo(arp[8..]);
        IPAddress.Parse(sender).GetAddressBytes().CopyTo(arp[14..]);
        IPAddress.Parse(target).GetAddressBytes().CopyTo(arp[24..]);
        return f;
    }

    [Theory]
    [InlineData("10.9.0.5", "10.9.0.5", 1, false)]     // gratuitous, its own address
    [InlineData("10.9.0.5", "10.9.0.254", 1, false)]   // asks for the board
    [InlineData("10.9.0.5", "10.9.0.6", 2, false)]     // answers b with its own address
    [InlineData("0.0.0.0", "10.9.0.254", 1, false)]    // an ARP probe (RFC 5227) claims nothing
    [InlineData("10.9.0.77", "10.9.0.1", 1, false)]    // an address the appliance does not know (a lease, a host behind it)
    [InlineData("10.9.0.6", "10.9.0.6", 1, true)]      // gratuitous as tenant b
    [InlineData("10.9.0.6", "10.9.0.1", 2, true)]      // a reply as tenant b
    [InlineData("10.9.0.254", "10.9.0.254", 1, true)]  // gratuitous as the board
    [InlineData("10.9.0.254", "10.9.0.1", 1, true)]    // a request as the board (receivers update their entry for the sender)
    [InlineData("10.9.7.9", "10.9.0.1", 2, true)]      // inside L3 tenant c's prefix, which the board answers for
    public void ARP_may_claim_only_what_is_not_someone_elses(string sender, string target, ushort op, bool refused)
    {
        Assert.Equal(refused, Refused(Arp(sender, target, op)));
        Assert.Equal(refused, Refused(Arp(sender, target, op, tags: 1)));
        Assert.Equal(refused, Refused(Arp(sender, target, op, tags: 2)));
        Assert.Equal(refused, Refused(Arp(sender, target, op, hardware: 6))); // IEEE 802, which Linux's arp_rcv also takes
    }

    [Fact]
    public void ARP_names_only_MACs_the_tenant_owns()
    {
        Assert.True(Refused(Arp("10.9.0.5", "10.9.0.1", 2, senderMac: MacB)));
        Assert.True(Refused(Arp("10.9.0.5", "10.9.0.1", 2, senderMac: Stranger)));
        Assert.True(Refused(Arp("0.0.0.0", "10.9.0.1", 1, senderMac: Broadcast)));
        Assert.False(Refused(Arp("10.9.0.5", "10.9.0.1", 2, senderMac: MacA)));
    }

    [Fact]
    public void What_is_not_Ethernet_IPv4_ARP_is_not_judged()
    {
        var truncated = Arp("10.9.0.254", "10.9.0.1")[..^1];
        Assert.False(Refused(truncated));
        var other = Arp("10.9.0.254", "10.9.0.1");
        other[14 + 2] = 0x86; // protocol type IPv6: no host takes it as an IPv4 claim
        Assert.False(Refused(other));
        var wide = Arp("10.9.0.254", "10.9.0.1");
        wide[14 + 5] = 16;
        Assert.False(Refused(wide));
    }

    private static byte[] Udp(string source, string destination, ushort tag = 0) =>
        TestFrames.Ip(Broadcast, MacA, IPAddress.Parse(source).GetAddressBytes(), IPAddress.Parse(destination).GetAddressBytes(), 17, new byte[8], tag);

    [Theory]
    [InlineData("10.9.0.5", false)]      // its own
    [InlineData("10.9.0.77", false)]     // one the appliance does not know (a lease, a host behind the tenant)
    [InlineData("0.0.0.0", false)]       // DHCP before a lease
    [InlineData("10.9.0.6", true)]       // tenant b's: the answers would go to b
    [InlineData("10.9.0.254", true)]     // the board's
    [InlineData("10.9.7.9", true)]       // inside L3 tenant c's prefix
    [InlineData("fd09::5", false)]
    [InlineData("fe80::a", false)]
    [InlineData("::", false)]
    [InlineData("fd09::6", true)]
    [InlineData("fd09::fe", true)]
    [InlineData("fe80::fe", true)]       // the board's link-local
    [InlineData("fd07::9", true)]
    public void A_packet_is_sent_only_from_an_address_that_is_not_someone_elses(string source, bool refused)
    {
        string destination = source.Contains(':') ? "2001:db8::1" : "192.0.2.1";
        Assert.Equal(refused, Refused(Udp(source, destination)));
        Assert.Equal(refused, Refused(Udp(source, destination, tag: 100)));
        var truncated = Udp(source, destination)[..(14 + (source.Contains(':') ? 39 : 19))];
        Assert.False(Refused(truncated)); // too short for an IP header: not judged (no host takes it as IP either)
    }

    /// <summary>A DHCPv4 message from tenant a's MAC to UDP port 67: <paramref name="op"/> (1 BOOTREQUEST), client
    /// hardware address <paramref name="client"/>, relay agent address <paramref name="giaddr"/> (behind one 802.1Q tag
    /// when asked).</summary>
    private static byte[] Dhcp(byte[] client, byte op = 1, string giaddr = "0.0.0.0", ushort tag = 0)
    {
        var udp = new byte[8 + 240];
        BinaryPrimitives.WriteUInt16BigEndian(udp, 68);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(2), 67);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(4), (ushort)udp.Length);
        (udp[8], udp[9], udp[10]) = (op, 1, 6);
        IPAddress.Parse(giaddr).GetAddressBytes().CopyTo(udp, 8 + 24);
        client.CopyTo(udp, 8 + 28);
        BinaryPrimitives.WriteUInt32BigEndian(udp.AsSpan(8 + 236), 0x6382_5363);
        return TestFrames.Ip(Broadcast, MacA, [0, 0, 0, 0], [255, 255, 255, 255], 17, udp, tag);
    }

    /// <summary>DHCP snooping's MAC check: a client message names only a MAC the tenant owns as its client (a made-up
    /// one would hold an address of the server's pool, another tenant's would release its lease); a relayed message
    /// (giaddr set) is not a client's, and a first fragment that ends before chaddr hides it.</summary>
    [Fact]
    public void A_DHCP_client_message_names_only_MACs_the_tenant_owns()
    {
        Assert.False(Refused(Dhcp(MacA)));
        Assert.False(Refused(Dhcp(MacA, tag: 100)));
        Assert.True(Refused(Dhcp(MacB)));
        Assert.True(Refused(Dhcp(Stranger)));
        Assert.True(Refused(Dhcp(Stranger, tag: 100)));
        Assert.False(Refused(Dhcp(Stranger, giaddr: "10.9.0.77"))); // a relay agent's (the service guard judges those)
        Assert.False(Refused(Dhcp(Stranger, op: 2)));                // a server's answer names its client (likewise)
        var first = Dhcp(MacA)[..(14 + 20 + 8 + 24)];                // the first fragment: up to giaddr
        BinaryPrimitives.WriteUInt16BigEndian(first.AsSpan(14 + 2), 20 + 8 + 24);
        BinaryPrimitives.WriteUInt16BigEndian(first.AsSpan(14 + 6), 0x2000); // more fragments
        Assert.True(Refused(first));
        BinaryPrimitives.WriteUInt16BigEndian(first.AsSpan(14 + 6), 0);      // unfragmented and cut short: no server takes it
        Assert.False(Refused(first));
    }

    /// <summary>A neighbour discovery message from tenant a: ICMPv6 <paramref name="type"/> from <paramref name="source"/>,
    /// its target (NS, NA, redirect) and one link-layer address option (<paramref name="option"/> 1 source, 2 target)
    /// naming <paramref name="lladdr"/>; behind a destination options header or as the first fragment when asked.</summary>
    private static byte[] Nd(byte type, string source, string? target, byte option = 0, byte[]? lladdr = null, byte next = 58)
    {
        int fixedPart = type switch { 133 => 8, 134 => 16, 137 => 40, _ => 24 };
        var icmp = new byte[fixedPart + (option != 0 ? 8 : 0)];
        icmp[0] = type;
        if (target is not null) IPAddress.Parse(target).GetAddressBytes().CopyTo(icmp, 8);
        if (option != 0)
        {
            icmp[fixedPart] = option;
            icmp[fixedPart + 1] = 1;
            (lladdr ?? MacA).CopyTo(icmp, fixedPart + 2);
        }
        byte[] header = next switch
        {
            60 => [58, 0, 1, 4, 0, 0, 0, 0],        // destination options: PadN
            44 => [58, 0, 0, 1, 0, 0, 0, 7],        // fragment: offset 0, more fragments
            _ => [],
        };
        var f = TestFrames.Ip(AllNodes, MacA, IPAddress.Parse(source).GetAddressBytes(), IPAddress.Parse("ff02::1").GetAddressBytes(), next,
            [.. header, .. icmp]);
        f[14 + 7] = 255;
        return f;
    }

    [Theory]
    [InlineData(136, "fd09::5", "fd09::5", 2, false)]   // advertises its own address with its own MAC
    [InlineData(136, "fe80::a", "fd09::5", 2, false)]
    [InlineData(135, "fe80::a", "fd09::fe", 1, false)]  // solicits the board
    [InlineData(135, "::", "fd09::fe", 0, false)]       // duplicate address detection claims nothing
    [InlineData(133, "fe80::a", null, 1, false)]        // router solicitation
    [InlineData(136, "fd09::77", "fd09::77", 2, false)] // an address the appliance does not know (SLAAC, a host behind it)
    [InlineData(136, "fe80::a", "fd09::6", 2, true)]    // advertises tenant b's address
    [InlineData(136, "fe80::a", "fd09::fe", 2, true)]   // the board's
    [InlineData(136, "fe80::a", "fe80::fe", 0, true)]   // the board's link-local
    [InlineData(136, "fe80::a", "fd07::9", 2, true)]    // inside L3 tenant c's prefix
    [InlineData(135, "fd09::6", "fd09::fe", 1, true)]   // solicits from b's address (the board would note b at a's MAC)
    [InlineData(135, "fd09::fe", "fd09::1", 1, true)]   // from the board's
    [InlineData(134, "fd09::fe", null, 1, true)]        // a router advertisement from the board's address
    public void Neighbour_discovery_may_claim_only_what_is_not_someone_elses(byte type, string source, string? target, byte option, bool refused)
    {
        foreach (byte next in (byte[])[58, 60])
            Assert.Equal(refused, Refused(Nd(type, source, target, option, next: next)));
        Assert.True(Refused(Nd(type, source, target, option, next: 44))); // never fragmented (RFC 6980): refused whatever it says
    }

    /// <summary>A fragment cannot hide what a message claims: the first fragment of an advertisement holding only
    /// the ICMPv6 header's first 8 bytes (the target in the second fragment) is refused, and so is a first fragment
    /// whose extension headers end before its upper-layer header.</summary>
    [Fact]
    public void A_fragment_does_not_hide_a_claim()
    {
        var f = Nd(136, "fe80::a", "fd09::fe", 2, next: 44);
        var first = f[..(14 + 40 + 8 + 8)];
        BinaryPrimitives.WriteUInt16BigEndian(first.AsSpan(14 + 4), 8 + 8);
        Assert.True(Refused(first));
        var headersOnly = f[..(14 + 40 + 8)]; // the fragment header, then nothing
        BinaryPrimitives.WriteUInt16BigEndian(headersOnly.AsSpan(14 + 4), 8);
        Assert.True(Refused(headersOnly));
        var plain = Nd(136, "fe80::a", "fd09::5", 2)[..(14 + 40 + 4)]; // unfragmented and cut short: nothing any host reads
        BinaryPrimitives.WriteUInt16BigEndian(plain.AsSpan(14 + 4), 4);
        Assert.False(Refused(plain));
    }

    /// <summary>A redirect's target goes into the receiver's neighbour table with its link-layer option (Linux's
    /// rt6_do_redirect): the board's or another tenant's address there is a claim.</summary>
    [Theory]
    [InlineData("fd09::fe", true)]
    [InlineData("fd09::6", true)]
    [InlineData("fd09::5", false)]
    [InlineData("fe80::a", false)]
    public void A_redirect_target_is_a_claim(string target, bool refused) => Assert.Equal(refused, Refused(Nd(137, "fe80::a", target, 2, MacA)));

    [Theory]
    [InlineData(133, 1)]
    [InlineData(134, 1)]
    [InlineData(135, 1)]
    [InlineData(136, 2)]
    [InlineData(137, 2)]
    public void Neighbour_discovery_names_only_MACs_the_tenant_owns(byte type, byte option)
    {
        string? target = type is 135 or 136 or 137 ? "fd09::5" : null;
        Assert.False(Refused(Nd(type, "fe80::a", target, option, MacA)));
        Assert.True(Refused(Nd(type, "fe80::a", target, option, MacB)));
        Assert.True(Refused(Nd(type, "fe80::a", target, option, Stranger, next: 60)));
    }

    [Fact]
    public void What_carries_no_neighbour_discovery_header_is_not_judged()
    {
        var later = Nd(136, "fe80::a", "fd09::fe", 2, next: 44);
        later[14 + 40 + 3] = 8 << 3; // fragment offset 64 bytes: a later fragment, no ICMPv6 header
        Assert.False(Refused(later));
        Assert.False(Refused(Nd(128, "fe80::a", "fd09::fe")));  // an echo request claims no target
        var badOption = Nd(136, "fe80::a", "fd09::5", 2, Stranger);
        badOption[^7] = 0; // option length 0: receivers drop the whole message
        Assert.False(Refused(badOption));
    }

    private static readonly byte[] Gateway = [0x02, 0, 0, 0, 0x0e, 0x01];

    /// <summary>A frame from the port's outside: <paramref name="frame"/> (made as if from tenant a) with the source
    /// MAC <paramref name="from"/>.</summary>
    private static byte[] FromOutside(byte[] frame, byte[] from)
    {
        var f = (byte[])frame.Clone();
        from.CopyTo(f, 6);
        if (BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(12)) == 0x0806) from.CopyTo(f, 14 + 8);
        return f;
    }

    /// <summary>The LAN's gateway speaks on the port (broadcast ARP, a router advertisement from its link-local
    /// address, an unsolicited advertisement): no tenant may claim its addresses afterwards (a gratuitous ARP for the
    /// gateway's address would take every LAN host's traffic to it), in ARP, as a source or as an advertised target,
    /// until they have not been heard for the lifetime. What the outside claims of a tenant's configured address, and
    /// what a tenant's own MAC sends back in from outside (a hairpinning switch), take nothing from the tenant.</summary>
    [Fact]
    public void What_an_outside_host_claimed_is_not_the_tenants()
    {
        var topology = Load().Topology;
        var guard = new AddressGuard(new BoardTables());
        var port = topology.Ports[0];
        bool Refuses(byte[] f) => guard.Refuses(f, topology.Pairs[0], port, port, topology);
        long now = 1_000_000;
        port.Classifier.SetClock(now);
        Assert.False(Refuses(Arp("10.9.0.1", "10.9.0.5", 2)));
        Assert.False(Refuses(Nd(136, "fe80::a", "fe80::1", 2)));

        foreach (var f in new[]
        {
            FromOutside(Arp("10.9.0.1", "10.9.0.40"), Gateway),                  // who has .40? tell the gateway
            FromOutside(Nd(134, "fe80::1", null, 1, Gateway), Gateway),          // a router advertisement
            FromOutside(Nd(136, "fe80::1", "fd09::1", 2, Gateway), Gateway),     // an unsolicited advertisement
            FromOutside(Arp("10.9.0.5", "10.9.0.5"), Gateway),                   // claims tenant a's configured address
            FromOutside(Arp("10.9.0.77", "10.9.0.1"), MacA),                     // tenant a's own frame, sent back in
            FromOutside(Arp("0.0.0.0", "10.9.0.99"), Gateway),                   // a probe claims nothing
        })
            port.ClaimedAddresses.HeardFromWire(f, ClaimedAddresses.SenderOf(f, topology), port.Classifier, topology, now);

        Assert.True(Refuses(Arp("10.9.0.1", "10.9.0.1", 2)));          // gratuitous ARP for the gateway's address
        Assert.True(Refuses(Arp("10.9.0.1", "10.9.0.40", 1)));
        Assert.True(Refuses(Udp("10.9.0.1", "192.0.2.1")));            // sending from it
        Assert.True(Refuses(Nd(136, "fe80::a", "fe80::1", 2)));        // advertising the router's link-local
        Assert.True(Refuses(Nd(136, "fe80::a", "fd09::1", 2)));
        Assert.True(Refuses(Nd(135, "fe80::1", "fd09::40", 1)));       // soliciting from it
        Assert.False(Refuses(Arp("10.9.0.5", "10.9.0.5", 2)));         // its configured address stays its own
        Assert.False(Refuses(Arp("10.9.0.77", "10.9.0.1", 2)));        // its own frame, sent back in, took nothing
        Assert.False(Refuses(Arp("10.9.0.99", "10.9.0.1", 2)));
        Assert.False(Refuses(Arp("10.9.0.2", "10.9.0.1", 2)));         // an address no one outside claimed

        port.Classifier.SetClock(now + ClaimedAddresses.Lifetime - 1);
        Assert.True(Refuses(Arp("10.9.0.1", "10.9.0.1", 2)));
        port.Classifier.SetClock(now + ClaimedAddresses.Lifetime);    // not heard for the lifetime: anyone's again
        Assert.False(Refuses(Arp("10.9.0.1", "10.9.0.1", 2)));
        Assert.False(Refuses(Nd(136, "fe80::a", "fe80::1", 2)));
    }

    /// <summary>An address a tenant claimed in ARP or neighbour discovery (a DHCP lease, SLAAC: nothing the config
    /// says) is its own on the port for the lifetime after it last did: another tenant may not claim it or send from
    /// it. A packet's source alone records nothing (a tenant that routes forwards other hosts' packets), and what a
    /// refused frame claimed is not recorded.</summary>
    [Fact]
    public void What_another_tenant_claimed_is_not_the_tenants()
    {
        var topology = Load().Topology;
        var guard = new AddressGuard(new BoardTables());
        var port = topology.Ports[0];
        var (a, b) = (topology.Pairs[0], topology.Pairs[1]);
        long now = 1_000_000;
        port.Classifier.SetClock(now);
        bool FromA(byte[] f) => guard.Refuses(f, a, port, port, topology);
        bool FromB(byte[] f) => guard.Refuses(f, b, port, port, topology);

        Assert.False(FromB(Arp("10.9.0.88", "10.9.0.1", 1, senderMac: MacB)));                 // b's lease
        Assert.False(FromB(Nd(136, "fe80::b", "fd09::88", 2, MacB)));                          // b's SLAAC address
        Assert.False(FromB(Udp("10.9.0.99", "192.0.2.1")));                                    // b routes a host's packet
        Assert.True(FromB(Arp("10.9.0.66", "10.9.0.1", 1, senderMac: Stranger)));              // refused: records nothing
        Assert.True(FromA(Arp("10.9.0.88", "10.9.0.88", 2)));
        Assert.True(FromA(Udp("10.9.0.88", "192.0.2.1")));
        Assert.True(FromA(Nd(136, "fe80::a", "fd09::88", 2)));
        Assert.True(FromA(Nd(136, "fe80::a", "fe80::b", 2)));                                   // b's link-local
        Assert.True(FromA(Nd(135, "fd09::88", "fd09::1", 1)));
        Assert.False(FromA(Arp("10.9.0.99", "10.9.0.1", 2)));
        Assert.False(FromA(Arp("10.9.0.66", "10.9.0.1", 2)));
        Assert.False(FromB(Arp("10.9.0.88", "10.9.0.1", 1, senderMac: MacB)));                 // still b's own
        Assert.True(FromB(Arp("10.9.0.99", "10.9.0.1", 1, senderMac: MacB)));                  // a claimed it first

        port.Classifier.SetClock(now + ClaimedAddresses.Lifetime); // b has not said so for a lifetime: anyone's again
        Assert.False(FromA(Arp("10.9.0.88", "10.9.0.88", 2)));
        Assert.True(FromB(Arp("10.9.0.88", "10.9.0.1", 1, senderMac: MacB)));
    }

    /// <summary>A source found free is kept per tenant (a host sends nearly every packet from one address) only while
    /// what it was judged by stays the same: an outside host claiming it, the same host heard again after its claim
    /// expired, a board address added or an L3 prefix routed there each make it refused from the next packet on.</summary>
    [Fact]
    public void A_kept_source_is_judged_again_when_what_it_was_judged_by_changes()
    {
        var topology = Load().Topology;
        var tables = new BoardTables();
        var guard = new AddressGuard(tables);
        var port = topology.Ports[0];
        long now = 1_000_000;
        port.Classifier.SetClock(now);
        bool Refuses(string source) => guard.Refuses(Udp(source, "192.0.2.1"), topology.Pairs[0], port, port, topology);
        byte[] A(string a) => IPAddress.Parse(a).GetAddressBytes();

        Assert.False(Refuses("10.9.0.77"));
        Assert.False(Refuses("10.9.0.77"));
        port.ClaimedAddresses.Saw(ClaimedAddresses.Outside, IpFamily.Inet, A("10.9.0.77"), now);
        Assert.True(Refuses("10.9.0.77"));

        Assert.False(Refuses("10.9.0.78"));
        tables.AddLocal("10.9.0.78");
        Assert.True(Refuses("10.9.0.78"));

        Assert.False(Refuses("10.9.9.1"));
        var prefixes = new Appliance.Datapath.Routing.PrefixTable<PairRuntime>.Builder();
        Assert.True(prefixes.TryAdd(IpFamily.Inet, Appliance.Datapath.Routing.IpNumbers.Read(IpFamily.Inet, A("10.9.9.0")), 24, topology.Pairs[2]));
        port.L3Prefixes = prefixes.Build();
        Assert.True(Refuses("10.9.9.1"));

        // A claim that expired frees the address; the same host heard again takes it back.
        port.ClaimedAddresses.Saw(ClaimedAddresses.Outside, IpFamily.Inet, A("10.9.0.80"), now);
        now += ClaimedAddresses.Lifetime + 1;
        port.Classifier.SetClock(now);
        Assert.False(Refuses("10.9.0.80"));
        port.ClaimedAddresses.Saw(ClaimedAddresses.Outside, IpFamily.Inet, A("10.9.0.80"), now);
        Assert.True(Refuses("10.9.0.80"));

        // What a tenant keeps is its own: a's address, just found free for a, is still b's to be refused.
        Assert.False(Refuses("10.9.0.5"));
        Assert.True(guard.Refuses(Udp("10.9.0.5", "192.0.2.1"), topology.Pairs[1], port, port, topology));
    }

    /// <summary>The check runs on every frame a tenant sends: it allocates nothing, whatever the frame.</summary>
    [Fact]
    public void Checking_allocates_nothing()
    {
        var topology = Load().Topology;
        var guard = new AddressGuard(new BoardTables());
        byte[][] frames =
        [
            Udp("10.9.0.5", "192.0.2.1"), Udp("10.9.0.254", "192.0.2.1", tag: 100), Udp("fd09::5", "2001:db8::1"), Udp("fd09::6", "2001:db8::1"),
            Arp("10.9.0.5", "10.9.0.1"), Arp("10.9.0.6", "10.9.0.1", tags: 2), Arp("10.9.0.5", "10.9.0.1", senderMac: Stranger),
            Nd(136, "fe80::a", "fd09::5", 2), Nd(136, "fe80::a", "fd09::fe", 2, next: 60), Nd(135, "fe80::a", "fd09::fe", 1, Stranger),
        ];
        int refused = 0;
        foreach (var f in frames) refused += guard.Refuses(f, topology.Pairs[0], topology.Ports[0], topology.Ports[0], topology) ? 1 : 0; // warm up
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int round = 0; round < 1000; round++)
            foreach (var f in frames) refused += guard.Refuses(f, topology.Pairs[0], topology.Ports[0], topology.Ports[0], topology) ? 1 : 0;
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(6 * 1001, refused);
    }

    /// <summary>A program that redirects the tenant's frames out of the uplink (bpf_redirect to the port's ifindex)
    /// does not take them past the check: what leaves by a port is judged alike (it went out unjudged before).</summary>
    [Fact]
    public void A_redirect_out_of_a_port_is_judged_as_a_pass()
    {
        string dir = Appliance.Datapath.Tests.Runtime.TestObjects.Directory;
        // probe_a's action 0: verdict 7 = bpf_redirect(2, 0), the offline topology's first port (eth0).
        var result = ConfigLoader.LoadBytes(System.Text.Encoding.UTF8.GetBytes($$"""
            {
              "board": "test",
              "ports": [{ "name": "eth0" }],
              "pairs": [
                { "name": "a", "mode": "l2", "uplink": "eth0",
                  "tenant": { "netns": "ta", "interface": "eth0", "mac": "02:00:00:00:0a:01", "addresses": ["10.9.0.5/24"] },
                  "peer": { "chain": [{ "program": "redirect" }] } },
                { "name": "b", "mode": "l2", "uplink": "eth0",
                  "tenant": { "netns": "tb", "interface": "eth0", "mac": "02:00:00:00:0a:02", "addresses": ["10.9.0.6/24"] } }
              ],
              "programs": [{ "name": "redirect", "object": "{{dir}}/probe.bpf.o", "section": "tc/probe_a",
                             "maps": { "actions": [{ "key": 0, "value": "07000000 02000000 00000000 00000000 00000000 00000000" }] } }]
            }
            """), "guard.json", dir);
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        var offline = OfflineTopology.Build(result.Config!, dir);
        using var replayer = new FrameReplayer(offline);
        var a = offline.Topology.Pairs[0];
        var own = replayer.Replay(ReplayInput.AtSide(a, PairSideKind.Peer), Arp("10.9.0.5", "10.9.0.1", 2));
        Assert.StartsWith("verdict=redirect", own.Decision);
        foreach (var spoof in new[] { Arp("10.9.0.6", "10.9.0.6", 2), Arp("10.9.0.5", "10.9.0.1", 2, senderMac: MacB) })
        {
            var d = replayer.Replay(ReplayInput.AtSide(a, PairSideKind.Peer), spoof).Decision;
            Assert.StartsWith("verdict=drop side=a/peer program=redirect", d);
            Assert.EndsWith("reason=invalidSource", d);
        }
        Assert.Equal(2, a.Peer.Counters.Drops(PairDropReason.InvalidSource));
    }

    /// <summary>Through the datapath's decision (replay): a refused ARP reply is dropped on the tenant's peer side as
    /// invalidSource, counted there; its own ARP goes out to the uplink.</summary>
    [Fact]
    public void A_refused_claim_is_dropped_on_the_peer_side_as_invalidSource()
    {
        var offline = Load();
        using var replayer = new FrameReplayer(offline);
        var a = offline.Topology.Pairs[0];
        var spoof = replayer.Replay(ReplayInput.AtSide(a, PairSideKind.Peer), Arp("10.9.0.6", "10.9.0.1", 2));
        Assert.Equal("verdict=drop side=a/peer policy=pass reason=invalidSource", spoof.Decision);
        Assert.Equal(1, a.Peer.Counters.Drops(PairDropReason.InvalidSource));
        var own = replayer.Replay(ReplayInput.AtSide(a, PairSideKind.Peer), Arp("10.9.0.5", "10.9.0.1", 2));
        Assert.StartsWith("verdict=pass", own.Decision);
        Assert.Equal(1, a.Peer.Counters.Drops(PairDropReason.InvalidSource));
        // What entered the side is what it delivered plus what it dropped: the refused frame is not counted as sent.
        Assert.Equal(2, a.Peer.Counters.RxPackets);
        Assert.Equal(1, a.Peer.Counters.TxPackets);
        Assert.Equal(1, a.Peer.Counters.TxDropped);
        Assert.Equal(a.Peer.Counters.RxBytes, a.Peer.Counters.TxBytes + 42);
    }

    /// <summary>Ports eth0 and eth1; tenant a (eth0) whose peer program redirects everything into tenant b's pair (eth1).</summary>
    private static OfflineTopology RedirectIntoB()
    {
        string dir = Appliance.Datapath.Tests.Runtime.TestObjects.Directory;
        // probe_a's action 0: verdict 7 = bpf_redirect(5, 0): ports eth0, eth1 are ifindex 2, 3, pair a's primary end 4, b's 5.
        var result = ConfigLoader.LoadBytes(System.Text.Encoding.UTF8.GetBytes($$"""
            {
              "board": "test",
              "ports": [{ "name": "eth0" }, { "name": "eth1" }],
              "pairs": [
                { "name": "a", "mode": "l2", "uplink": "eth0",
                  "tenant": { "netns": "ta", "interface": "eth0", "mac": "02:00:00:00:0a:01", "addresses": ["10.9.0.5/24"] },
                  "peer": { "chain": [{ "program": "redirect" }] } },
                { "name": "b", "mode": "l2", "uplink": "eth1",
                  "tenant": { "netns": "tb", "interface": "eth0", "mac": "02:00:00:00:0a:02", "addresses": ["10.9.0.6/24"] } }
              ],
              "programs": [{ "name": "redirect", "object": "{{dir}}/probe.bpf.o", "section": "tc/probe_a",
                             "maps": { "actions": [{ "key": 0, "value": "07000000 05000000 00000000 00000000 00000000 00000000" }] } }]
            }
            """), "guard.json", dir);
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        return OfflineTopology.Build(result.Config!, dir);
    }

    /// <summary>A program on tenant a's peer side redirects everything into tenant b's pair (bpf_redirect to b's primary
    /// end), b on another port: what a sends b is judged as if sent on b's uplink, with the same counters on a's peer
    /// side. Refused: "my address is at b's MAC", "b's address is at mine", "the gateway of b's LAN is" (its claim heard
    /// on b's port only), a router advertisement; a's own ARP reaches b. Before, all of it reached b unjudged.</summary>
    [Fact]
    public void A_redirect_into_another_pair_is_judged_as_sent_on_that_pairs_uplink()
    {
        var offline = RedirectIntoB();
        var t = offline.Topology;
        var (a, b) = (t.Pairs[0], t.Pairs[1]);
        var bLan = t.Ports[1];
        Assert.Equal(5, b.PrimaryIfindex);
        using var replayer = new FrameReplayer(offline);
        var gatewaySpeaks = FromOutside(Arp("10.9.0.1", "10.9.0.40"), Gateway);
        // The gateway of b's LAN asks for a neighbour (the group-frame reader records it).
        bLan.ClaimedAddresses.HeardFromWire(gatewaySpeaks, ClaimedAddresses.SenderOf(gatewaySpeaks, t), bLan.Classifier, t, bLan.Classifier.Now);
        Assert.True(bLan.ClaimedAddresses.TryOwner(IpFamily.Inet, IPAddress.Parse("10.9.0.1").GetAddressBytes(), bLan.Classifier.Now, out _));

        var own = replayer.Replay(ReplayInput.AtSide(a, PairSideKind.Peer), Arp("10.9.0.5", "10.9.0.6", 2));
        Assert.Equal("verdict=redirect side=b/primary from=a/peer policy=pass redirect=5 target=b", own.Decision);
        foreach (var (frame, reason) in new[]
        {
            (Arp("10.9.0.5", "10.9.0.6", 2, senderMac: MacB), "invalidSource"), // "I am at b's MAC"
            (Arp("10.9.0.6", "10.9.0.6", 2), "invalidSource"),     // b's own
            (Arp("10.9.0.1", "10.9.0.1", 2), "invalidSource"),     // the gateway of b's LAN
            (Nd(134, "fe80::a", null, 1), "rogueService"),          // a router advertisement: a serves no router
        })
        {
            var d = replayer.Replay(ReplayInput.AtSide(a, PairSideKind.Peer), frame);
            Assert.Equal($"verdict=drop side=a/peer program=redirect redirect=5 reason={reason}", d.Decision);
        }
        Assert.Equal(3, a.Peer.Counters.Drops(PairDropReason.InvalidSource));
        Assert.Equal(1, a.Peer.Counters.Drops(PairDropReason.RogueService));
        Assert.Equal(1, b.Primary.Counters.RxPackets); // only a's own ARP entered b
        Assert.Equal(5, a.Peer.Counters.RxPackets);
        Assert.Equal(1, a.Peer.Counters.TxPackets);
        // The gateway's address, which a's own LAN never heard, would have gone out of a's uplink.
        Assert.StartsWith("verdict=redirect", replayer.Replay(ReplayInput.AtSide(a, PairSideKind.Peer), Arp("10.9.0.5", "10.9.0.1", 1)).Decision);
    }

    /// <summary>The ingress port's counters say why the tenant checks dropped a frame: invalidSource and rogueService,
    /// as on the pair's peer side (they said policy before); a program's drop stays policy there.</summary>
    [Fact]
    public void The_port_counts_what_the_tenant_checks_dropped_by_their_reason()
    {
        var offline = Load();
        using var handler = new PairFrameHandler(new TopologySource(offline.Topology), fibTables: new BoardTables());
        using var board = new FakeBoard(handler, ports: offline.Topology.EnginePortCount);
        int tenantA = offline.Topology.Pairs[0].PrimaryPort;
        var own = Arp("10.9.0.5", "10.9.0.1", 2);
        Assert.Equal(4, board.Kernel(tenantA).Deliver([Arp("10.9.0.254", "10.9.0.254", 2), Arp("10.9.0.6", "10.9.0.1", 2), Nd(134, "fe80::a", null, 1), own]));
        board.Settle();
        var c = board.Port(tenantA).Counters;
        Assert.Equal(2, c.Drops(Appliance.Datapath.Engine.DropReason.InvalidSource));
        Assert.Equal(1, c.Drops(Appliance.Datapath.Engine.DropReason.RogueService));
        Assert.Equal(0, c.Drops(Appliance.Datapath.Engine.DropReason.Policy));
        Assert.Equal([own], board.Kernel(0).Sent);
        board.AssertClean();
    }

    /// <summary>The one mapping from a pair side's reason to the port's: the tenant checks' and an expired packet's
    /// by name, everything else a side decides as policy.</summary>
    [Fact]
    public void A_pair_drop_reads_on_the_port_by_its_name_or_as_policy()
    {
        foreach (var r in Enum.GetValues<PairDropReason>())
        {
            var port = r.OnPort();
            if (r is PairDropReason.InvalidSource or PairDropReason.RogueService or PairDropReason.TtlExpired)
                Assert.Equal(r.ToString(), port.ToString());
            else
                Assert.Equal(Appliance.Datapath.Engine.DropReason.Policy, port);
        }
    }

    /// <summary>Judging what a tenant's program redirects into another pair allocates nothing on the worker: a
    /// thousand refused frames (a claim of b's address, a MAC a does not own, a router advertisement) through the
    /// engine's worker loop, offline.</summary>
    [Fact]
    public void Judging_a_redirect_into_a_pair_allocates_nothing()
    {
        var offline = RedirectIntoB();
        var a = offline.Topology.Pairs[0];
        using var handler = new PairFrameHandler(new TopologySource(offline.Topology));
        using var board = new FakeBoard(handler, ports: offline.Topology.EnginePortCount);
        byte[][] refused = [Arp("10.9.0.6", "10.9.0.6", 2), Arp("10.9.0.5", "10.9.0.6", 2, senderMac: MacB), Nd(134, "fe80::a", null, 1)];
        void Round()
        {
            for (int i = 0; i < 30; i++) board.Kernel(a.PrimaryPort).Deliver(refused[i % refused.Length]);
        }
        Round();
        board.Settle(); // warm up
        long allocated = 0;
        for (int round = 0; round < 33; round++)
        {
            Round();
            long before = GC.GetAllocatedBytesForCurrentThread();
            board.Settle();
            allocated += GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Assert.Equal(0, allocated);
        Assert.Equal(34 * 30, a.Peer.Counters.Drops(PairDropReason.InvalidSource) + a.Peer.Counters.Drops(PairDropReason.RogueService));
        Assert.Equal(0, offline.Topology.Pairs[1].Primary.Counters.RxPackets);
        board.AssertClean();
    }
}
