using System.Buffers.Binary;
using System.Net;
using Appliance.Config;
using Appliance.Datapath.Forwarding;
using Appliance.Datapath.Replay;
using Appliance.Datapath.Runtime;
using Appliance.Datapath.Tests.Engine;
using Xunit;

namespace Appliance.Datapath.Tests.Forwarding;

/// <summary>What only a router or a DHCP server sends, refused from an L2 tenant that does not serve it
/// (<see cref="ServiceGuard"/>): every message kind, behind VLAN tags, IPv4 options and authentication headers, IPv6
/// extension headers; fragments; malformed and cut-short frames; the tenant's own client traffic passes, and a tenant
/// that serves the role sends its messages. Through the datapath's decision (replay): dropped on the peer side as
/// rogueService, also when a program redirects it out of the port.</summary>
public sealed class ServiceGuardTests
{
    private static readonly byte[] MacA = [0x02, 0, 0, 0, 0x0a, 0x01], Broadcast = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    private static readonly byte[] AllNodes = [0x33, 0x33, 0, 0, 0, 1];

    private static byte[] Address(string a) => IPAddress.Parse(a).GetAddressBytes();

    /// <summary>The frame behind <paramref name="tags"/> VLAN tags (an 802.1ad outer tag when there are two or more).</summary>
    private static byte[] Tagged(byte[] frame, int tags)
    {
        var f = new byte[frame.Length + 4 * tags];
        frame.AsSpan(0, 12).CopyTo(f);
        for (int t = 0; t < tags; t++) BinaryPrimitives.WriteUInt32BigEndian(f.AsSpan(12 + 4 * t), (t == 0 && tags > 1 ? 0x88a8_0000u : 0x8100_0000u) | 100);
        frame.AsSpan(12).CopyTo(f.AsSpan(12 + 4 * tags));
        return f;
    }

    private static byte[] Ipv4(byte protocol, byte[] payload, string destination = "255.255.255.255", string source = "10.9.0.77") =>
        TestFrames.Ip(Broadcast, MacA, Address(source), Address(destination), protocol, payload);

    /// <summary>An IPv6 packet to ff02::1 whose <paramref name="protocol"/> payload follows <paramref name="extensions"/>
    /// (each 8 bytes, next header filled in): 0 hop-by-hop, 60 destination options, 43 routing, 44 fragment.</summary>
    private static byte[] Ipv6(byte protocol, byte[] payload, params byte[] extensions)
    {
        var chain = new List<byte>();
        for (int i = 0; i < extensions.Length; i++)
        {
            byte next = i + 1 < extensions.Length ? extensions[i + 1] : protocol;
            chain.AddRange(extensions[i] == 44 ? [next, 0, 0, 1, 0, 0, 0, 7] : [next, 0, 1, 4, 0, 0, 0, 0]); // fragment: offset 0, more; PadN
        }
        var f = TestFrames.Ip(AllNodes, MacA, Address("fe80::a"), Address("ff02::1"), extensions.Length > 0 ? extensions[0] : protocol,
            [.. chain, .. payload]);
        f[14 + 7] = 255;
        return f;
    }

    private static byte[] Icmp(byte type) => TestFrames.Icmp(type, 0, 0, new byte[16]);

    private static byte[] Udp(int source, int destination, byte[] payload)
    {
        var u = new byte[8 + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(u, (ushort)source);
        BinaryPrimitives.WriteUInt16BigEndian(u.AsSpan(2), (ushort)destination);
        BinaryPrimitives.WriteUInt16BigEndian(u.AsSpan(4), (ushort)u.Length);
        payload.CopyTo(u, 8);
        return u;
    }

    /// <summary>A BOOTP/DHCPv4 message: <paramref name="op"/> (1 request, 2 reply), the relay agent's address, the
    /// magic cookie and an end option.</summary>
    private static byte[] Bootp(byte op, string giaddr = "0.0.0.0")
    {
        var m = new byte[244];
        m[0] = op;
        m[1] = 1;
        m[2] = 6;
        Address(giaddr).CopyTo(m, 24);
        MacA.CopyTo(m, 28);
        BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(236), 0x6382_5363);
        m[240] = 255;
        return m;
    }

    /// <summary>A DHCPv6 message of <paramref name="type"/>: transaction id and an elapsed-time option.</summary>
    private static byte[] Dhcp6(byte type) => [type, 0x12, 0x34, 0x56, 0, 8, 0, 2, 0, 0];

    private static bool HostRefuses(byte[] frame) => ServiceGuard.Refuses(frame, router: false, dhcp: false);

    /// <summary>Refused from a host and from a tenant serving only the other role; passed from one serving
    /// <paramref name="role"/>; the same behind one and two VLAN tags.</summary>
    private static void AssertRole(byte[] frame, bool refused, TenantService role)
    {
        foreach (var f in new[] { frame, Tagged(frame, 1), Tagged(frame, 2) })
        {
            Assert.Equal(refused, HostRefuses(f));
            Assert.Equal(refused, ServiceGuard.Refuses(f, router: role == TenantService.Dhcp, dhcp: role == TenantService.Router));
            Assert.False(ServiceGuard.Refuses(f, router: role == TenantService.Router, dhcp: role == TenantService.Dhcp));
            Assert.False(ServiceGuard.Refuses(f, router: true, dhcp: true));
        }
    }

    [Theory]
    [InlineData(5, true)]    // redirect
    [InlineData(9, true)]    // router advertisement (RFC 1256)
    [InlineData(0, false)]   // echo reply
    [InlineData(8, false)]   // echo request
    [InlineData(3, false)]   // destination unreachable
    [InlineData(10, false)]  // router solicitation: what a host sends
    [InlineData(11, false)]
    public void ICMPv4_from_a_router_only(byte type, bool refused)
    {
        AssertRole(Ipv4(1, Icmp(type)), refused, TenantService.Router);
        AssertRole(Ipv4(1, Icmp(type), "192.0.2.1"), refused, TenantService.Router);
        // Behind IPv4 options (IHL 6) and behind an authentication header (RFC 4302, 12 bytes + 4 of ICV).
        var options = Ipv4(1, [0, 0, 0, 0, .. Icmp(type)]);
        options[14] = 0x46;
        AssertRole(options, refused, TenantService.Router);
        AssertRole(Ipv4(51, [1, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, .. Icmp(type)]), refused, TenantService.Router);
    }

    /// <summary>IGMP: a host reports and leaves; only a multicast router or a switch's querier queries (and wins the
    /// querier election with a lower address).</summary>
    [Theory]
    [InlineData(0x11, true)]  // membership query
    [InlineData(0x12, false)] // IGMPv1 report
    [InlineData(0x16, false)] // IGMPv2 report
    [InlineData(0x17, false)] // leave group
    [InlineData(0x22, false)] // IGMPv3 report
    public void IGMP_queries_from_a_router_only(byte type, bool refused)
    {
        var igmp = new byte[8];
        igmp[0] = type;
        AssertRole(Ipv4(2, igmp, "224.0.0.1"), refused, TenantService.Router);
        var alert = Ipv4(2, [0x94, 0x04, 0, 0, .. igmp], "224.0.0.22"); // behind the router alert option, as hosts send it
        alert[14] = 0x46;
        AssertRole(alert, refused, TenantService.Router);
    }

    [Theory]
    [InlineData(134, true)]  // router advertisement
    [InlineData(137, true)]  // redirect
    [InlineData(138, true)]  // router renumbering
    [InlineData(133, false)] // router solicitation: what a host sends
    [InlineData(135, false)]
    [InlineData(136, false)]
    [InlineData(128, false)]
    [InlineData(1, false)]
    [InlineData(143, false)] // MLDv2 report
    [InlineData(131, false)] // MLDv1 report
    [InlineData(132, false)] // MLDv1 done
    [InlineData(130, true)]  // MLD query: a multicast router's or querier's
    public void ICMPv6_from_a_router_only(byte type, bool refused)
    {
        var icmp = TestFrames.Icmp(type, 0, 0, new byte[16], checksum: false);
        AssertRole(Ipv6(58, icmp), refused, TenantService.Router);
        AssertRole(Ipv6(58, icmp, 0), refused, TenantService.Router);         // behind hop-by-hop options
        AssertRole(Ipv6(58, icmp, 0, 60, 43), refused, TenantService.Router); // and destination options, routing
    }

    [Theory]
    [InlineData(68, 67, 1, "0.0.0.0", false)]   // a client's DISCOVER / REQUEST
    [InlineData(67, 68, 2, "0.0.0.0", true)]    // a server's OFFER / ACK / NAK
    [InlineData(67, 68, 1, "0.0.0.0", true)]    // to a client's port from the server port, whatever op says
    [InlineData(4000, 68, 2, "0.0.0.0", true)]  // only servers and relays send to a client's port
    [InlineData(68, 67, 2, "0.0.0.0", true)]    // a BOOTREPLY to the server port: an answer to a relay agent
    [InlineData(67, 67, 2, "10.9.0.1", true)]   // a server's answer to a relay agent
    [InlineData(67, 67, 1, "10.9.0.1", true)]   // a relay agent forwarding a request
    [InlineData(68, 67, 1, "10.9.0.1", true)]   // a request naming a relay agent: the server answers there
    [InlineData(67, 4000, 1, "0.0.0.0", true)]  // from the server port: a server's or relay's
    [InlineData(53, 53, 2, "0.0.0.0", false)]   // not DHCP
    [InlineData(5353, 5353, 2, "10.9.0.1", false)]
    public void DHCPv4_from_a_DHCP_server_only(int source, int destination, byte op, string giaddr, bool refused)
    {
        AssertRole(Ipv4(17, Udp(source, destination, Bootp(op, giaddr))), refused, TenantService.Dhcp);
        AssertRole(Ipv4(17, Udp(source, destination, Bootp(op, giaddr)), "10.9.0.1"), refused, TenantService.Dhcp); // unicast
    }

    [Theory]
    [InlineData(546, 547, 1, false)]   // SOLICIT
    [InlineData(546, 547, 3, false)]   // REQUEST
    [InlineData(546, 547, 5, false)]   // RENEW
    [InlineData(546, 547, 8, false)]   // RELEASE
    [InlineData(546, 547, 11, false)]  // INFORMATION-REQUEST
    [InlineData(547, 546, 2, true)]    // ADVERTISE
    [InlineData(547, 546, 7, true)]    // REPLY
    [InlineData(547, 546, 10, true)]   // RECONFIGURE
    [InlineData(547, 547, 12, true)]   // RELAY-FORW
    [InlineData(547, 547, 13, true)]   // RELAY-REPL
    [InlineData(546, 547, 2, true)]    // server and relay messages to the server port, from any port
    [InlineData(546, 547, 7, true)]
    [InlineData(546, 547, 12, true)]
    [InlineData(546, 547, 13, true)]
    [InlineData(546, 547, 15, true)]   // LEASEQUERY-REPLY
    [InlineData(546, 547, 16, true)]   // LEASEQUERY-DONE
    [InlineData(546, 547, 17, true)]   // LEASEQUERY-DATA
    [InlineData(546, 547, 21, true)]   // DHCPV4-RESPONSE
    [InlineData(4000, 546, 1, true)]   // only servers and relays send to a client's port
    [InlineData(547, 4000, 1, true)]   // from the server port: a server's or relay's
    [InlineData(53, 53, 7, false)]     // not DHCPv6
    public void DHCPv6_from_a_DHCP_server_only(int source, int destination, byte type, bool refused)
    {
        var udp = Udp(source, destination, Dhcp6(type));
        AssertRole(Ipv6(17, udp), refused, TenantService.Dhcp);
        AssertRole(Ipv6(17, udp, 0, 60), refused, TenantService.Dhcp);
        AssertRole(Ipv6(17, udp, 44), refused, TenantService.Dhcp); // a first fragment holding the message's start
    }

    /// <summary>A later fragment carries no ports nor type: not judged (no receiver reassembles it without its first
    /// fragment, which is). A first fragment whose headers end before the ports or the type is refused, whatever
    /// it is (they would be in a later fragment); an unfragmented packet cut short is nobody's message and passes.</summary>
    [Fact]
    public void Fragments()
    {
        // IPv4: DHCP offer as a first fragment (offset 0, more fragments) and as a later one.
        var first = Ipv4(17, Udp(67, 68, Bootp(2)));
        BinaryPrimitives.WriteUInt16BigEndian(first.AsSpan(14 + 6), 0x2000);
        Assert.True(HostRefuses(first));
        var later = Ipv4(17, Udp(67, 68, Bootp(2)));
        BinaryPrimitives.WriteUInt16BigEndian(later.AsSpan(14 + 6), 0x2000 | 24); // offset 192 bytes
        Assert.False(HostRefuses(later));
        BinaryPrimitives.WriteUInt16BigEndian(later.AsSpan(14 + 6), 24);          // the last fragment
        Assert.False(HostRefuses(later));
        var redirect = Ipv4(1, Icmp(5));
        BinaryPrimitives.WriteUInt16BigEndian(redirect.AsSpan(14 + 6), 0x4000);   // don't fragment: a whole packet
        Assert.True(HostRefuses(redirect));

        // An IPv4 first fragment without the UDP header (or the ICMP type), and an unfragmented packet cut as short.
        foreach (byte protocol in (byte[])[17, 1])
        {
            var bare = TestFrames.Ip(Broadcast, MacA, Address("10.9.0.77"), Address("255.255.255.255"), protocol, []);
            BinaryPrimitives.WriteUInt16BigEndian(bare.AsSpan(14 + 6), 0x2000);
            Assert.True(HostRefuses(bare));
            Assert.False(ServiceGuard.Refuses(bare, router: true, dhcp: true));
            BinaryPrimitives.WriteUInt16BigEndian(bare.AsSpan(14 + 6), 0);
            Assert.False(HostRefuses(bare));
        }
        var cut = Ipv4(17, Udp(67, 68, Bootp(2))[..4]); // ports, no length or checksum
        Assert.False(HostRefuses(cut));
        BinaryPrimitives.WriteUInt16BigEndian(cut.AsSpan(14 + 6), 0x2000);
        Assert.True(HostRefuses(cut));

        // IPv6: a later fragment; a first fragment with its fragment header and nothing, or a UDP header cut short.
        var later6 = Ipv6(17, Udp(547, 546, Dhcp6(7)), 44);
        later6[14 + 40 + 3] = 8 << 3;
        Assert.False(HostRefuses(later6));
        var headersOnly = Ipv6(17, [], 44);
        Assert.True(HostRefuses(headersOnly));
        var shortUdp = Ipv6(17, Udp(547, 546, Dhcp6(7))[..6], 44);
        Assert.True(HostRefuses(shortUdp));
        Assert.False(HostRefuses(Ipv6(17, Udp(547, 546, Dhcp6(7))[..6]))); // unfragmented: nobody's message
        // A router advertisement in a fragment (AddressGuard refuses any neighbour discovery in one too).
        Assert.True(HostRefuses(Ipv6(58, TestFrames.Icmp(134, 0, 0, new byte[16], checksum: false), 44)));
    }

    /// <summary>Frames no host takes as IP are not judged, and no frame cut at any length throws.</summary>
    [Fact]
    public void Malformed_and_cut_frames()
    {
        byte[][] messages =
        [
            Ipv4(17, Udp(67, 68, Bootp(2))), Ipv4(1, Icmp(5)), Ipv6(17, Udp(547, 546, Dhcp6(7)), 0, 60), Ipv6(58, Icmp(134), 44),
            Tagged(Ipv4(17, Udp(68, 67, Bootp(1, "10.9.0.1"))), 3), Ipv4(51, [1, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, .. Icmp(5)]),
        ];
        foreach (var m in messages)
        {
            Assert.True(HostRefuses(m));
            for (int length = 0; length < m.Length; length++) ServiceGuard.Refuses(m.AsSpan(0, length), router: false, dhcp: false);
        }
        var badVersion = Ipv4(1, Icmp(5));
        badVersion[14] = 0x65;
        Assert.False(HostRefuses(badVersion));
        var shortHeader = Ipv4(1, Icmp(5));
        shortHeader[14] = 0x44; // IHL 4: 16 bytes, below the minimum
        Assert.False(HostRefuses(shortHeader));
        var lyingLength = Ipv4(1, Icmp(5));
        BinaryPrimitives.WriteUInt16BigEndian(lyingLength.AsSpan(14 + 2), 12); // total length below the header
        Assert.False(HostRefuses(lyingLength));
        var ahPastEnd = Ipv4(51, [1, 200, 0, 0, 0, 0, 0, 1, .. Icmp(5)]); // the authentication header says 808 bytes
        Assert.False(HostRefuses(ahPastEnd));
        var v6AsV4 = Ipv6(58, Icmp(134));
        BinaryPrimitives.WriteUInt16BigEndian(v6AsV4.AsSpan(12), 0x0800); // IPv6 bytes behind an IPv4 type: version 6
        Assert.False(HostRefuses(v6AsV4));
        Assert.False(HostRefuses(Ipv6(1, Icmp(5))));   // ICMPv4 numbers mean nothing in IPv6
        Assert.False(HostRefuses(Ipv4(58, Icmp(134))));
        var arp = Ipv4(17, Udp(67, 68, Bootp(2)));
        BinaryPrimitives.WriteUInt16BigEndian(arp.AsSpan(12), 0x0806);
        Assert.False(HostRefuses(arp));
    }

    /// <summary>The check runs on every frame a tenant sends: it allocates nothing, whatever the frame.</summary>
    [Fact]
    public void Checking_allocates_nothing()
    {
        byte[][] frames =
        [
            Ipv4(17, Udp(68, 67, Bootp(1))), Ipv4(17, Udp(67, 68, Bootp(2))), Tagged(Ipv4(1, Icmp(5)), 2), Ipv4(6, new byte[20]),
            Ipv6(17, Udp(546, 547, Dhcp6(1)), 0), Ipv6(17, Udp(547, 546, Dhcp6(7)), 60), Ipv6(58, Icmp(134)), Ipv6(58, Icmp(128)),
            TestFrames.Build(Broadcast, MacA, 64, 1),
        ];
        int refused = 0;
        foreach (var f in frames) refused += HostRefuses(f) ? 1 : 0; // warm up
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int round = 0; round < 1000; round++)
            foreach (var f in frames) refused += HostRefuses(f) ? 1 : 0;
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(4 * 1001, refused);
    }

    private static OfflineTopology Load(string dir = ".", string peerOfA = "", string programs = "[]")
    {
        var result = ConfigLoader.LoadBytes(System.Text.Encoding.UTF8.GetBytes($$"""
            {
              "board": "test",
              "ports": [{ "name": "eth0" }],
              "pairs": [
                { "name": "a", "mode": "l2", "uplink": "eth0",
                  "tenant": { "netns": "ta", "interface": "eth0", "mac": "02:00:00:00:0a:01", "addresses": ["10.9.0.5/24"] }{{peerOfA}} },
                { "name": "b", "mode": "l2", "uplink": "eth0",
                  "tenant": { "netns": "tb", "interface": "eth0", "mac": "02:00:00:00:0a:02", "serves": ["router", "dhcp"] } },
                { "name": "c", "mode": "l2", "uplink": "eth0",
                  "tenant": { "netns": "tc", "interface": "eth0", "mac": "02:00:00:00:0a:03", "serves": ["dhcp"] } }
              ],
              "programs": {{programs}}
            }
            """), "guard.json", dir);
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        return OfflineTopology.Build(result.Config!, dir);
    }

    /// <summary>The frame as sent by tenant <paramref name="tenant"/> (0 a, 1 b, 2 c): its source MAC.</summary>
    private static byte[] From(int tenant, byte[] frame)
    {
        var f = (byte[])frame.Clone();
        f[11] = (byte)(tenant + 1);
        return f;
    }

    /// <summary>Through the datapath's decision (replay) of a config: host a's router advertisement and DHCP offer
    /// are dropped on its peer side as rogueService and counted there; b serves both and sends them to the uplink;
    /// c serves DHCP only. Its own DHCP discover goes out from a. (The source, 10.9.0.77, is nobody's: a lease.)</summary>
    [Fact]
    public void What_a_host_may_not_send_is_dropped_on_the_peer_side_as_rogueService()
    {
        var offline = Load();
        using var replayer = new FrameReplayer(offline);
        var (a, b, c) = (offline.Topology.Pairs[0], offline.Topology.Pairs[1], offline.Topology.Pairs[2]);
        Assert.False(a.ServesRouter || a.ServesDhcp);
        Assert.True(b.ServesRouter && b.ServesDhcp);
        var ra = Ipv6(58, Icmp(134));
        var offer = Ipv4(17, Udp(67, 68, Bootp(2)));
        foreach (var rogue in new[] { ra, offer })
            Assert.Equal("verdict=drop side=a/peer policy=pass reason=rogueService",
                replayer.Replay(ReplayInput.AtSide(a, PairSideKind.Peer), From(0, rogue)).Decision);
        Assert.Equal(2, a.Peer.Counters.Drops(PairDropReason.RogueService));
        Assert.StartsWith("verdict=pass", replayer.Replay(ReplayInput.AtSide(a, PairSideKind.Peer), From(0, Ipv4(17, Udp(68, 67, Bootp(1))))).Decision);
        foreach (var served in new[] { ra, offer })
            Assert.Equal("verdict=pass side=b/peer policy=pass target=eth0", replayer.Replay(ReplayInput.AtSide(b, PairSideKind.Peer), From(1, served)).Decision);
        Assert.EndsWith("reason=rogueService", replayer.Replay(ReplayInput.AtSide(c, PairSideKind.Peer), From(2, ra)).Decision);
        Assert.StartsWith("verdict=pass", replayer.Replay(ReplayInput.AtSide(c, PairSideKind.Peer), From(2, offer)).Decision);
        Assert.Equal(0, b.Peer.Counters.Drops(PairDropReason.RogueService));
        Assert.Equal(1, c.Peer.Counters.Drops(PairDropReason.RogueService));
    }

    /// <summary>A program that redirects the tenant's frames out of the uplink (bpf_redirect to the port's ifindex)
    /// does not take them past the check.</summary>
    [Fact]
    public void A_redirect_out_of_a_port_is_judged_as_a_pass()
    {
        string dir = Appliance.Datapath.Tests.Runtime.TestObjects.Directory;
        // probe_a's action 0: verdict 7 = bpf_redirect(2, 0), the offline topology's first port (eth0).
        var offline = Load(dir, """, "peer": { "chain": [{ "program": "redirect" }] }""",
            $$"""[{ "name": "redirect", "object": "{{dir}}/probe.bpf.o", "section": "tc/probe_a", "maps": { "actions": [{ "key": 0, "value": "07000000 02000000 00000000 00000000 00000000 00000000" }] } }]""");
        using var replayer = new FrameReplayer(offline);
        var a = offline.Topology.Pairs[0];
        Assert.StartsWith("verdict=redirect", replayer.Replay(ReplayInput.AtSide(a, PairSideKind.Peer), From(0, Ipv4(17, Udp(68, 67, Bootp(1))))).Decision);
        var d = replayer.Replay(ReplayInput.AtSide(a, PairSideKind.Peer), From(0, Ipv6(58, Icmp(134)))).Decision;
        Assert.StartsWith("verdict=drop side=a/peer program=redirect", d);
        Assert.EndsWith("reason=rogueService", d);
        Assert.Equal(1, a.Peer.Counters.Drops(PairDropReason.RogueService));
    }

    /// <summary>A relayed DHCP message split so that its first fragment holds only the UDP header: the message type
    /// (DHCPv6) or op and giaddr (DHCPv4) sit in the next fragment, so the first is refused.</summary>
    [Fact]
    public void A_relay_message_cut_after_its_UDP_header_is_refused()
    {
        var udp = Udp(1234, 547, []);
        byte[] fragmentHeader = [17, 0, 0, 1, 0, 0, 0, 9]; // offset 0, more fragments
        var v6 = TestFrames.Ip(AllNodes, MacA, Address("fe80::a"), Address("fe80::1"), 44, [.. fragmentHeader, .. udp]);
        Assert.True(HostRefuses(v6));
        var v4 = TestFrames.Ip(Broadcast, MacA, Address("10.9.0.50"), Address("10.9.0.1"), 17, Udp(1234, 67, []));
        BinaryPrimitives.WriteUInt16BigEndian(v4.AsSpan(14 + 6), 0x2000); // more fragments, offset 0
        Assert.True(HostRefuses(v4));
        Assert.False(ServiceGuard.Refuses(v4, router: false, dhcp: true));
    }
}
