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

/// <summary>Who claimed an address on a port's LAN (<see cref="ClaimedAddresses"/>) as the LAN really behaves: two
/// board ports on one LAN, a switch that sends a tenant's broadcast back, a gateway that speaks in unicast, ARP and
/// neighbour discovery no host takes, legitimate clients, and a tenant at its share. Each case failed before its fix
/// (a review's probes).</summary>
public sealed class LanClaimsTests
{
    private static readonly byte[] MacA = [0x02, 0, 0, 0, 0x0a, 0x01], MacB = [0x02, 0, 0, 0, 0x0a, 0x02];
    private static readonly byte[] Gateway = [0x02, 0, 0, 0, 0x0e, 0x01], Nowhere = [0x02, 0, 0, 0, 0x0e, 0x99];
    private static readonly byte[] Broadcast = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff], AllNodes = [0x33, 0x33, 0, 0, 0, 1];

    private static OfflineTopology Load(bool twoPorts)
    {
        string bUplink = twoPorts ? "eth1" : "eth0";
        string ports = twoPorts ? """[{ "name": "eth0" }, { "name": "eth1" }]""" : """[{ "name": "eth0" }]""";
        var result = ConfigLoader.LoadBytes(System.Text.Encoding.UTF8.GetBytes($$"""
            {
              "board": "test",
              "ports": {{ports}},
              "pairs": [
                { "name": "a", "mode": "l2", "uplink": "eth0",
                  "tenant": { "netns": "ta", "interface": "eth0", "mac": "02:00:00:00:0a:01" } },
                { "name": "b", "mode": "l2", "uplink": "{{bUplink}}",
                  "tenant": { "netns": "tb", "interface": "eth0", "mac": "02:00:00:00:0a:02" } }
              ],
              "programs": []
            }
            """), "probe.json", ".");
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        return OfflineTopology.Build(result.Config!, ".");
    }

    private static byte[] Arp(byte[] from, string sender, string target, ushort op = 1, byte[]? dst = null)
    {
        var f = new byte[14 + 28];
        (dst ?? Broadcast).CopyTo(f, 0);
        from.CopyTo(f, 6);
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(12), 0x0806);
        var arp = f.AsSpan(14);
        BinaryPrimitives.WriteUInt16BigEndian(arp, 1);
        BinaryPrimitives.WriteUInt16BigEndian(arp[2..], 0x0800);
        arp[4] = 6;
        arp[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(arp[6..], op);
        from.CopyTo(arp[8..]);
        IPAddress.Parse(sender).GetAddressBytes().CopyTo(arp[14..]);
        IPAddress.Parse(target).GetAddressBytes().CopyTo(arp[24..]);
        return f;
    }

    private static byte[] Udp(byte[] from, string source, string destination, ushort sport = 1234, ushort dport = 80, int payload = 8) =>
        TestFrames.Ip(Broadcast, from, IPAddress.Parse(source).GetAddressBytes(), IPAddress.Parse(destination).GetAddressBytes(), 17,
            UdpHeader(sport, dport, payload));

    private static byte[] UdpHeader(ushort sport, ushort dport, int payload)
    {
        var u = new byte[8 + payload];
        BinaryPrimitives.WriteUInt16BigEndian(u, sport);
        BinaryPrimitives.WriteUInt16BigEndian(u.AsSpan(2), dport);
        BinaryPrimitives.WriteUInt16BigEndian(u.AsSpan(4), (ushort)u.Length);
        return u;
    }

    private static byte[] Nd(byte[] from, byte type, string source, string? target, byte option = 0)
    {
        int fixedPart = type switch { 133 => 8, 134 => 16, 137 => 40, _ => 24 };
        var icmp = new byte[fixedPart + (option != 0 ? 8 : 0)];
        icmp[0] = type;
        if (target is not null) IPAddress.Parse(target).GetAddressBytes().CopyTo(icmp, 8);
        if (option != 0)
        {
            icmp[fixedPart] = option;
            icmp[fixedPart + 1] = 1;
            from.CopyTo(icmp, fixedPart + 2);
        }
        var f = TestFrames.Ip(AllNodes, from, IPAddress.Parse(source).GetAddressBytes(), IPAddress.Parse("ff02::1").GetAddressBytes(), 58, icmp);
        f[14 + 7] = 255;
        return f;
    }

    /// <summary>The wire delivers <paramref name="frame"/> to <paramref name="port"/>: what the group-frame reader (or,
    /// unicast, the worker) records, its sender found before a learned MAC moves.</summary>
    private static void FromWire(PortRuntime port, byte[] frame, RuntimeTopology t, long now) =>
        port.ClaimedAddresses.HeardFromWire(frame, ClaimedAddresses.SenderOf(frame, t), port.Classifier, t, now);

    /// <summary>Two board ports on one LAN: b (eth1) uses a lease, its ARP heard on eth0 too; a (eth0) may not say the
    /// lease is at its MAC. a's spoof, let out before and heard back on eth1, does not lock b out of its lease.</summary>
    [Fact]
    public void A_tenant_on_another_port_of_the_same_LAN_can_neither_take_a_lease_nor_lock_its_owner_out()
    {
        var t = Load(twoPorts: true).Topology;
        var guard = new AddressGuard(null);
        var (eth0, eth1) = (t.Ports[0], t.Ports[1]);
        var (a, b) = (t.Pairs[0], t.Pairs[1]);
        long now = 1_000_000;
        eth0.Classifier.SetClock(now);
        eth1.Classifier.SetClock(now);
        var bArp = Arp(MacB, "10.9.0.88", "10.9.0.1");
        Assert.False(guard.Refuses(bArp, b, eth1, eth1, t));
        FromWire(eth0, bArp, t, now);                                                          // the LAN brings it to eth0
        Assert.True(guard.Refuses(Arp(MacA, "10.9.0.88", "10.9.0.88", 2), a, eth0, eth0, t));

        var c = Load(twoPorts: true).Topology;                                                  // b's ARP not heard on eth0 yet
        var (c0, c1) = (c.Ports[0], c.Ports[1]);
        c0.Classifier.SetClock(now);
        c1.Classifier.SetClock(now);
        Assert.False(guard.Refuses(Arp(MacB, "10.9.0.88", "10.9.0.1"), c.Pairs[1], c1, c1, c));
        var garp = Arp(MacA, "10.9.0.88", "10.9.0.88", 2);
        Assert.False(guard.Refuses(garp, c.Pairs[0], c0, c0, c));                               // let out of eth0
        FromWire(c1, garp, c, now + 1);                                                         // and heard on eth1
        Assert.False(guard.Refuses(Arp(MacB, "10.9.0.88", "10.9.0.1"), c.Pairs[1], c1, c1, c), "b refused its own lease (ARP)");
        Assert.False(guard.Refuses(Udp(MacB, "10.9.0.88", "192.0.2.1"), c.Pairs[1], c1, c1, c), "b refused its own lease (IP)");
    }

    /// <summary>ARP other than a request or a reply, and neighbour discovery whose hop limit is not 255, no host takes
    /// (Linux's arp_process, ndisc_rcv): judged, but not recorded as a claim another tenant is then refused.</summary>
    [Fact]
    public void What_no_host_takes_records_no_claim()
    {
        var t = Load(twoPorts: false).Topology;
        var guard = new AddressGuard(null);
        var port = t.Ports[0];
        port.Classifier.SetClock(1_000_000);
        Assert.False(guard.Refuses(Arp(MacA, "10.9.0.88", "10.9.0.88", op: 99, dst: Nowhere), t.Pairs[0], port, port, t));
        var hop64 = Nd(MacA, 136, "fe80::a", "2001:db8::88", 2);
        hop64[14 + 7] = 64;
        Assert.False(guard.Refuses(hop64, t.Pairs[0], port, port, t));
        Assert.False(guard.Refuses(Arp(MacB, "10.9.0.88", "10.9.0.88"), t.Pairs[1], port, port, t));
        Assert.False(guard.Refuses(Nd(MacB, 136, "fe80::b", "2001:db8::88", 2), t.Pairs[1], port, port, t));
    }

    /// <summary>The gateway answers a tenant's ARP request in unicast: through the worker's path (replay), its address is
    /// recorded as the outside's, so no tenant may claim it.</summary>
    [Fact]
    public void A_unicast_claim_from_the_outside_is_recorded()
    {
        var offline = Load(twoPorts: false);
        var t = offline.Topology;
        using var replayer = new FrameReplayer(offline);
        var port = t.Ports[0];
        var reply = Arp(Gateway, "10.9.0.1", "10.9.0.50", op: 2, dst: MacA);
        var d = replayer.Replay(ReplayInput.AtPort(port.Index), reply);
        Assert.StartsWith("verdict=pass", d.Decision);
        long now = port.Classifier.Now;
        Assert.True(port.ClaimedAddresses.TryOwner(IpFamily.Inet, IPAddress.Parse("10.9.0.1").GetAddressBytes(), now, out int owner)
            && owner == ClaimedAddresses.Outside, "the gateway's unicast ARP reply recorded nothing");
        Assert.True(new AddressGuard(null).Refuses(Arp(MacB, "10.9.0.1", "10.9.0.1", 2), t.Pairs[1], port, port, t));
        var data = Udp(Gateway, "192.0.2.9", "10.9.0.50");
        MacA.CopyTo(data, 0);
        Assert.False(ClaimedAddresses.MayClaim(data)); // plain traffic to a tenant costs one compare, records nothing
    }

    /// <summary>The gateway's unicast neighbour advertisement to a tenant behind IPv6 extension headers (hop-by-hop,
    /// destination options: a Linux host takes it) is read through the worker's path as the multicast one is: its
    /// target is the outside's, no tenant may claim it. In a fragment (RFC 6980: no host takes fragmented neighbour
    /// discovery) its target is not recorded, as the guard refuses the same from a tenant. Before, only an
    /// advertisement right behind the IPv6 header was read from a unicast frame.</summary>
    [Theory]
    [InlineData(0, true)]    // hop-by-hop options
    [InlineData(60, true)]   // destination options
    [InlineData(44, false)]  // a first fragment: not taken
    public void A_unicast_advertisement_behind_extension_headers_is_recorded(byte header, bool recorded)
    {
        var offline = Load(twoPorts: false);
        var t = offline.Topology;
        using var replayer = new FrameReplayer(offline);
        var port = t.Ports[0];
        var na = BehindHeader(header, Nd(Gateway, 136, "fe80::e1", "2001:db8::1", 2));
        MacA.CopyTo(na, 0); // unicast to tenant a
        Assert.True(ClaimedAddresses.MayClaim(na));
        var d = replayer.Replay(ReplayInput.AtPort(port.Index), na);
        Assert.StartsWith("verdict=pass", d.Decision);
        long now = port.Classifier.Now;
        bool owned = port.ClaimedAddresses.TryOwner(IpFamily.Inet6, IPAddress.Parse("2001:db8::1").GetAddressBytes(), now, out int owner);
        Assert.Equal(recorded, owned && owner == ClaimedAddresses.Outside);
        Assert.Equal(recorded, new AddressGuard(null).Refuses(Nd(MacB, 136, "fe80::b", "2001:db8::1", 2), t.Pairs[1], port, port, t));
        // Plain traffic behind the same header records nothing and is not read.
        var udp = BehindHeader(header, Udp(Gateway, "2001:db8::9", "2001:db8::50"));
        MacA.CopyTo(udp, 0);
        Assert.False(ClaimedAddresses.MayClaim(udp));
    }

    /// <summary>Every unicast frame to a tenant asks <see cref="ClaimedAddresses.MayClaim"/>, and those behind extension
    /// headers are now read: neither allocates.</summary>
    [Fact]
    public void Reading_unicast_frames_behind_extension_headers_allocates_nothing()
    {
        var t = Load(twoPorts: false).Topology;
        var port = t.Ports[0];
        byte[][] frames = [BehindHeader(0, Nd(Gateway, 136, "fe80::e1", "2001:db8::1", 2)), BehindHeader(44, Nd(Gateway, 136, "fe80::e1", "2001:db8::2", 2)),
            BehindHeader(60, Udp(Gateway, "2001:db8::9", "2001:db8::50")), Udp(Gateway, "2001:db8::9", "2001:db8::50")];
        foreach (var f in frames) MacA.CopyTo(f, 0);
        int read = 0;
        void Round(long now)
        {
            foreach (var f in frames)
                if (ClaimedAddresses.MayClaim(f))
                {
                    read++;
                    FromWire(port, f, t, now);
                }
        }
        Round(1);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 2; i < 1002; i++) Round(i * System.Diagnostics.Stopwatch.Frequency);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(2 * 1001, read);
    }

    /// <summary><paramref name="frame"/> (untagged IPv6) with an 8-byte extension header <paramref name="header"/>
    /// (0 hop-by-hop, 60 destination options: PadN; 44: a first fragment) between the IPv6 header and its payload.</summary>
    private static byte[] BehindHeader(byte header, byte[] frame)
    {
        byte next = frame[14 + 6];
        byte[] ext = header == 44 ? [next, 0, 0, 1, 0, 0, 0, 7] : [next, 0, 1, 4, 0, 0, 0, 0];
        var f = new byte[frame.Length + 8];
        frame.AsSpan(0, 14 + 40).CopyTo(f);
        ext.CopyTo(f, 14 + 40);
        frame.AsSpan(14 + 40).CopyTo(f.AsSpan(14 + 40 + 8));
        f[14 + 6] = header;
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(14 + 4), (ushort)(BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(14 + 4)) + 8));
        return f;
    }

    /// <summary>What the outside asks about a tenant's address (ARP's and a solicitation's target, someone's probe or
    /// duplicate address detection) claims nothing, and a tenant's DHCP and neighbour discovery as a client pass.</summary>
    [Fact]
    public void Targets_are_not_claims_and_clients_pass()
    {
        var t = Load(twoPorts: false).Topology;
        var guard = new AddressGuard(null);
        var port = t.Ports[0];
        var a = t.Pairs[0];
        long now = 1_000_000;
        port.Classifier.SetClock(now);
        foreach (var f in new[]
        {
            Arp(Gateway, "10.9.0.1", "10.9.0.88"),
            Arp(Gateway, "0.0.0.0", "10.9.0.88"),
            Nd(Gateway, 135, "fe80::1", "2001:db8::88", 1),
            Nd(Gateway, 135, "::", "2001:db8::88"),
            Nd(Gateway, 135, "::", "fe80::a"),
        })
            FromWire(port, f, t, now);
        byte[][] own =
        [
            Udp(MacA, "0.0.0.0", "255.255.255.255", 68, 67, 240),
            Arp(MacA, "0.0.0.0", "10.9.0.88"),
            Arp(MacA, "10.9.0.88", "10.9.0.88"),
            Arp(MacA, "10.9.0.88", "10.9.0.1", 2, Gateway),
            Udp(MacA, "10.9.0.88", "10.9.0.1", 68, 67, 240),
            Nd(MacA, 135, "::", "2001:db8::88"),
            Nd(MacA, 136, "2001:db8::88", "2001:db8::88", 2),
            Nd(MacA, 136, "fe80::a", "fe80::a", 2),
            Nd(MacA, 133, "fe80::a", null, 1),
        ];
        foreach (var f in own)
        {
            Assert.False(ServiceGuard.Refuses(f, router: false, dhcp: false));
            Assert.False(guard.Refuses(f, a, port, port, t));
        }
    }

    private static byte[] Numbered(int i)
    {
        var a = IPAddress.Parse("2001:db8::").GetAddressBytes();
        BitConverter.TryWriteBytes(a.AsSpan(12), i);
        return a;
    }

    /// <summary>A tenant at its share does not take others' expired entries either.</summary>
    [Fact]
    public void A_tenant_at_its_share_takes_no_more()
    {
        var t = new ClaimedAddresses();
        for (int i = 0; i < 200; i++) t.Saw(2, IpFamily.Inet6, Numbered(i), 1);
        for (int i = 0; i < 200; i++) t.Saw(ClaimedAddresses.Outside, IpFamily.Inet6, Numbered(10_000 + i), 1);
        long later = 1 + ClaimedAddresses.Lifetime;
        for (int i = 0; i < 64; i++) t.Saw(1, IpFamily.Inet6, Numbered(50_000 + i), later);
        for (int i = 0; i < 200; i++) t.Saw(1, IpFamily.Inet6, Numbered(i), later + 1);
        for (int i = 0; i < 200; i++) t.Saw(1, IpFamily.Inet6, Numbered(10_000 + i), later + 1);
        int held = 0;
        foreach (int i in Enumerable.Range(0, 200).Concat(Enumerable.Range(10_000, 200)).Concat(Enumerable.Range(50_000, 64)))
            held += t.TryOwner(IpFamily.Inet6, Numbered(i), later + 1, out int o) && o == 1 ? 1 : 0;
        Assert.True(held <= ClaimedAddresses.PerTenant, $"tenant 1 holds {held} live entries");
    }

    /// <summary>Hairpin: a container behind tenant a (a learned MAC) announces its address and the switch sends the
    /// broadcast back in. Its MAC moves outside (as any switch would), but the address stays the tenant's claim: the
    /// sender is found before the move.</summary>
    [Fact]
    public void A_hairpinned_claim_from_a_learned_MAC_stays_the_tenants()
    {
        var t = Load(twoPorts: false).Topology;
        var guard = new AddressGuard(null);
        var port = t.Ports[0];
        var a = t.Pairs[0];
        long now = 1_000_000;
        port.Classifier.SetClock(now);
        byte[] container = [0x02, 0, 0, 0, 0x0c, 0x01];
        var announce = Arp(container, "10.9.0.77", "10.9.0.77");
        Assert.Equal(Appliance.Datapath.Pairs.LearnResult.Learned, port.Classifier.Learn(a.Index, announce));
        Assert.False(guard.Refuses(announce, a, port, port, t));
        int sender = ClaimedAddresses.SenderOf(announce, t); // the flooder's order: the sender, then the move
        port.Classifier.SawOutside(MacAddress.Read(announce.AsSpan(6)), now);
        port.ClaimedAddresses.HeardFromWire(announce, sender, port.Classifier, t, now);
        Assert.True(port.ClaimedAddresses.TryOwner(IpFamily.Inet, IPAddress.Parse("10.9.0.77").GetAddressBytes(), now, out int owner));
        Assert.Equal(a.Index, owner);
    }

    /// <summary>A DHCP server's answer (<paramref name="type"/> 5 DHCPACK, 2 DHCPOFFER) from <paramref name="from"/> to
    /// <paramref name="to"/>, leasing <paramref name="yiaddr"/> to hardware address <paramref name="chaddr"/>: UDP 67 → 68,
    /// a pad and a server identifier option before the message type.</summary>
    private static byte[] DhcpAnswer(byte[] from, byte[] to, byte[] chaddr, string yiaddr, byte type = 5)
    {
        var bootp = new byte[300];
        bootp[0] = 2;
        bootp[1] = 1;
        bootp[2] = 6;
        IPAddress.Parse(yiaddr).GetAddressBytes().CopyTo(bootp, 16);
        chaddr.CopyTo(bootp, 28);
        BinaryPrimitives.WriteUInt32BigEndian(bootp.AsSpan(236), 0x6382_5363);
        byte[] options = [0, 54, 4, 10, 9, 0, 1, 53, 1, type, 255];
        options.CopyTo(bootp, 240);
        var f = TestFrames.Ip(to, from, IPAddress.Parse("10.9.0.1").GetAddressBytes(), IPAddress.Parse(yiaddr).GetAddressBytes(), 17,
            [.. UdpHeader(67, 68, 0).AsSpan(0, 4), .. new byte[4], .. bootp]);
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(14 + 20 + 4), (ushort)(8 + bootp.Length));
        return f;
    }

    private static void Heard(PortRuntime port, byte[] frame, RuntimeTopology t, long now)
    {
        int sender = ClaimedAddresses.SenderOf(frame, t);
        port.ClaimedAddresses.HeardFromWire(frame, sender, port.Classifier, t, now);
    }

    /// <summary>DHCP snooping's binding: tenant a claims an address of the pool first (its ARP for it), the server then
    /// leases it to tenant b: the DHCPACK binds it to b, who may use it, and a may no longer. An offer binds nothing,
    /// nor an answer for a MAC no tenant of the port owns, nor one from a tenant that does not serve DHCP.</summary>
    [Fact]
    public void A_DHCP_lease_binds_its_address_to_the_tenant_it_was_leased_to()
    {
        var t = Load(twoPorts: false).Topology;
        var guard = new AddressGuard(null);
        var port = t.Ports[0];
        var (a, b) = (t.Pairs[0], t.Pairs[1]);
        long now = 1_000_000;
        port.Classifier.SetClock(now);
        Assert.False(guard.Refuses(Arp(MacA, "10.9.0.88", "10.9.0.1"), a, port, port, t));  // a squats .88
        Assert.True(guard.Refuses(Arp(MacB, "10.9.0.88", "10.9.0.88"), b, port, port, t));

        Heard(port, DhcpAnswer(Gateway, MacB, MacB, "10.9.0.88", type: 2), t, now);           // an offer: nothing yet
        Heard(port, DhcpAnswer(Gateway, MacB, Nowhere, "10.9.0.88"), t, now);                 // for a MAC no tenant owns
        Heard(port, DhcpAnswer(MacA, MacB, MacB, "10.9.0.88"), t, now);                       // from a, not a DHCP server
        Assert.True(guard.Refuses(Arp(MacB, "10.9.0.88", "10.9.0.88"), b, port, port, t));

        var ack = DhcpAnswer(Gateway, Broadcast, MacB, "10.9.0.88");
        Assert.True(DhcpMessages.IsAck(ack, out var client, out _));
        Assert.Equal(MacAddress.Read(MacB), client);
        Heard(port, ack, t, now);
        Assert.False(guard.Refuses(Arp(MacB, "10.9.0.88", "10.9.0.88"), b, port, port, t));
        Assert.False(guard.Refuses(Udp(MacB, "10.9.0.88", "192.0.2.1"), b, port, port, t));
        Assert.True(guard.Refuses(Arp(MacA, "10.9.0.88", "10.9.0.1"), a, port, port, t));
    }

    /// <summary>A unicast DHCPACK to the tenant binds through the worker's path (replay at the port).</summary>
    [Fact]
    public void A_unicast_DHCP_ack_binds_through_the_worker()
    {
        var offline = Load(twoPorts: false);
        var t = offline.Topology;
        using var replayer = new FrameReplayer(offline);
        var port = t.Ports[0];
        var b = t.Pairs[1];
        var ack = DhcpAnswer(Gateway, MacB, MacB, "10.9.0.89");
        Assert.True(ClaimedAddresses.MayClaim(ack));
        Assert.StartsWith("verdict=pass", replayer.Replay(ReplayInput.AtPort(port.Index), ack).Decision);
        Assert.True(port.ClaimedAddresses.TryOwner(IpFamily.Inet, IPAddress.Parse("10.9.0.89").GetAddressBytes(), port.Classifier.Now, out int owner));
        Assert.Equal(b.Index, owner);
    }

    /// <summary>What is not a DHCPACK a host takes binds nothing and never throws: every cut of an ACK, and its bytes
    /// mutated at random.</summary>
    [Fact]
    public void A_malformed_answer_binds_nothing()
    {
        var ack = DhcpAnswer(Gateway, Broadcast, MacB, "10.9.0.88");
        for (int n = 0; n < ack.Length; n++) Assert.False(DhcpMessages.IsAck(ack.AsSpan(0, n), out _, out _)); // a cut packet no host takes
        var random = new Random(7);
        for (int i = 0; i < 20_000; i++)
        {
            var f = (byte[])ack.Clone();
            for (int k = random.Next(1, 6); k > 0; k--) f[random.Next(f.Length)] = (byte)random.Next(256);
            DhcpMessages.IsAck(f, out _, out var leased);
            Assert.True(leased.IsEmpty || leased.Length == 4);
        }
    }

    /// <summary>A DHCPv6 message (<paramref name="type"/> 7 REPLY, 2 ADVERTISE) from <paramref name="from"/> to
    /// <paramref name="to"/> (UDP 547 → 546, fe80::1 → fe80::b): a client identifier, then an IA_NA leasing
    /// <paramref name="address"/> for <paramref name="valid"/> seconds.</summary>
    private static byte[] Dhcp6Answer(byte[] from, byte[] to, string address, uint valid = 3600, byte type = 7)
    {
        var iaAddress = new byte[4 + 24];
        BinaryPrimitives.WriteUInt16BigEndian(iaAddress, 5);
        BinaryPrimitives.WriteUInt16BigEndian(iaAddress.AsSpan(2), 24);
        IPAddress.Parse(address).GetAddressBytes().CopyTo(iaAddress, 4);
        BinaryPrimitives.WriteUInt32BigEndian(iaAddress.AsSpan(20), valid / 2);
        BinaryPrimitives.WriteUInt32BigEndian(iaAddress.AsSpan(24), valid);
        var iaNa = new byte[4 + 12 + iaAddress.Length];
        BinaryPrimitives.WriteUInt16BigEndian(iaNa, 3);
        BinaryPrimitives.WriteUInt16BigEndian(iaNa.AsSpan(2), (ushort)(12 + iaAddress.Length));
        BinaryPrimitives.WriteUInt32BigEndian(iaNa.AsSpan(4), 1);
        iaAddress.CopyTo(iaNa, 16);
        byte[] message = [type, 0x12, 0x34, 0x56, 0, 1, 0, 4, 0, 3, 0, 1, .. iaNa];
        var udp = UdpHeader(547, 546, message.Length);
        message.CopyTo(udp, 8);
        var f = TestFrames.Ip(to, from, IPAddress.Parse("fe80::1").GetAddressBytes(), IPAddress.Parse("fe80::b").GetAddressBytes(), 17, udp);
        f[14 + 7] = 255;
        return f;
    }

    /// <summary>DHCPv6: a server's REPLY to tenant b binds the addresses it leases to b, over tenant a's earlier claim
    /// (its advertisement); an ADVERTISE, a lease with valid lifetime 0 (a release confirmed), a REPLY to a group MAC
    /// and one from a tenant that does not serve DHCP bind nothing. Through the worker's path (replay) too.</summary>
    [Fact]
    public void A_DHCPv6_lease_binds_its_address_to_the_tenant_it_was_leased_to()
    {
        var offline = Load(twoPorts: false);
        var t = offline.Topology;
        var guard = new AddressGuard(null);
        var port = t.Ports[0];
        var (a, b) = (t.Pairs[0], t.Pairs[1]);
        long now = 1_000_000;
        port.Classifier.SetClock(now);
        Assert.False(guard.Refuses(Nd(MacA, 136, "fe80::a", "2001:db8::88", 2), a, port, port, t));   // a claims it first
        Assert.True(guard.Refuses(Nd(MacB, 136, "fe80::b", "2001:db8::88", 2), b, port, port, t));

        Heard(port, Dhcp6Answer(Gateway, MacB, "2001:db8::88", type: 2), t, now);
        Heard(port, Dhcp6Answer(Gateway, MacB, "2001:db8::88", valid: 0), t, now);
        Heard(port, Dhcp6Answer(Gateway, AllNodes, "2001:db8::88"), t, now);
        Heard(port, Dhcp6Answer(MacA, MacB, "2001:db8::88"), t, now);
        Assert.True(guard.Refuses(Nd(MacB, 136, "fe80::b", "2001:db8::88", 2), b, port, port, t));

        var reply = Dhcp6Answer(Gateway, MacB, "2001:db8::88");
        Span<byte> leases = stackalloc byte[64];
        Assert.Equal(1, DhcpMessages.V6Leases(reply, leases, out var client));
        Assert.Equal(MacAddress.Read(MacB), client);
        Assert.True(ClaimedAddresses.MayClaim(reply));
        using var replayer = new FrameReplayer(offline);
        Assert.StartsWith("verdict=pass", replayer.Replay(ReplayInput.AtPort(port.Index), reply).Decision);
        port.Classifier.SetClock(now);
        Assert.False(guard.Refuses(Nd(MacB, 136, "fe80::b", "2001:db8::88", 2), b, port, port, t));
        Assert.False(guard.Refuses(Udp(MacB, "2001:db8::88", "2001:db8::1"), b, port, port, t));
        Assert.True(guard.Refuses(Nd(MacA, 136, "fe80::a", "2001:db8::88", 2), a, port, port, t));
    }

    /// <summary>A malformed DHCPv6 answer leases nothing and never throws: every cut, and random mutations.</summary>
    [Fact]
    public void A_malformed_DHCPv6_answer_leases_nothing()
    {
        var reply = Dhcp6Answer(Gateway, MacB, "2001:db8::88");
        var leases = new byte[128];
        for (int n = 0; n < reply.Length; n++) Assert.Equal(0, DhcpMessages.V6Leases(reply.AsSpan(0, n), leases, out _));
        var random = new Random(11);
        for (int i = 0; i < 20_000; i++)
        {
            var f = (byte[])reply.Clone();
            for (int k = random.Next(1, 6); k > 0; k--) f[random.Next(f.Length)] = (byte)random.Next(256);
            Assert.InRange(DhcpMessages.V6Leases(f, leases, out _), 0, 8);
        }
    }
}
