using System.Buffers.Binary;
using Appliance.Bpf.Helpers;
using Appliance.Bpf.Routing;
using Appliance.Config;
using Appliance.Datapath.Forwarding;
using Xunit;

namespace Appliance.Datapath.Tests.Routing;

/// <summary>The L3 byte work on hand-made frames: IP destination, what a router forwards, TTL with the header
/// checksum still valid, and the proxy ARP answer.</summary>
public sealed class L3FramesTests
{
    private static byte[] Ipv4(byte ttl, byte[] src, byte[] dst)
    {
        var f = new byte[14 + 20 + 8];
        f[12] = 0x08;
        var ip = f.AsSpan(14);
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], 28);
        ip[8] = ttl;
        ip[9] = 17;
        src.CopyTo(ip[12..]);
        dst.CopyTo(ip[16..]);
        BinaryPrimitives.WriteUInt16LittleEndian(ip[10..], InternetChecksum.Fold(InternetChecksum.Partial(ip[..20], 0)));
        return f;
    }

    [Fact]
    public void The_ttl_step_keeps_the_header_checksum_valid_and_stops_at_one()
    {
        var f = Ipv4(64, [10, 0, 0, 1], [192, 0, 2, 7]);
        Assert.Equal(IpFamily.Inet, L3Frames.Destination(f, out var dst));
        Assert.Equal(new byte[] { 192, 0, 2, 7 }, dst.ToArray());
        Assert.True(L3Frames.DecrementTtl(IpFamily.Inet, f));
        Assert.Equal(63, f[14 + 8]);
        Assert.Equal(0, InternetChecksum.Fold(InternetChecksum.Partial(f.AsSpan(14, 20), 0))); // a valid header sums to 0xffff
        var last = Ipv4(1, [10, 0, 0, 1], [192, 0, 2, 7]);
        Assert.False(L3Frames.DecrementTtl(IpFamily.Inet, last));
        Assert.Equal(1, last[14 + 8]);
    }

    [Fact]
    public void Link_local_multicast_and_broadcast_are_not_forwarded()
    {
        Assert.True(L3Frames.Forwardable(IpFamily.Inet, Ipv4(64, [10, 0, 0, 1], [192, 0, 2, 7])));
        Assert.False(L3Frames.Forwardable(IpFamily.Inet, Ipv4(64, [10, 0, 0, 1], [224, 0, 0, 5])));
        Assert.False(L3Frames.Forwardable(IpFamily.Inet, Ipv4(64, [10, 0, 0, 1], [255, 255, 255, 255])));
        Assert.False(L3Frames.Forwardable(IpFamily.Inet, Ipv4(64, [10, 0, 0, 1], [169, 254, 1, 1])));
        Assert.False(L3Frames.Forwardable(IpFamily.Inet, Ipv4(64, [10, 0, 0, 1], [0, 0, 0, 9])));
        Assert.False(L3Frames.Forwardable(IpFamily.Inet, Ipv4(64, [10, 0, 0, 1], [127, 0, 0, 1])));
        Assert.False(L3Frames.Forwardable(IpFamily.Inet6, Ipv6(Addr6("fd00::1"), Addr6("fe80::1"))));
        Assert.False(L3Frames.Forwardable(IpFamily.Inet6, Ipv6(Addr6("fd00::1"), Addr6("ff02::1"))));
        Assert.False(L3Frames.Forwardable(IpFamily.Inet6, Ipv6(Addr6("fd00::1"), Addr6("::1"))));
        Assert.False(L3Frames.Forwardable(IpFamily.Inet6, Ipv6(Addr6("fd00::1"), Addr6("::"))));
        Assert.True(L3Frames.Forwardable(IpFamily.Inet6, Ipv6(Addr6("fe80::1"), Addr6("2001:db8::1")))); // the source is checked apart
        var arp = new byte[60];
        arp[12] = 0x08;
        arp[13] = 0x06;
        Assert.Equal(IpFamily.Unspec, L3Frames.Destination(arp, out _));
    }

    private static byte[] Addr6(string a) => System.Net.IPAddress.Parse(a).GetAddressBytes();

    private static byte[] Ipv6(byte[] src, byte[] dst)
    {
        var f = new byte[14 + 40 + 8];
        f[12] = 0x86;
        f[13] = 0xdd;
        f[14] = 0x60;
        f[14 + 6] = 17;
        f[14 + 7] = 64;
        src.CopyTo(f, 14 + 8);
        dst.CopyTo(f, 14 + 24);
        return f;
    }

    /// <summary>A header a router must not forward (RFC 1812 §5.2.2, as the kernel's ip_rcv / ipv6_rcv check it) is
    /// not an IP frame to the L3 datapath: IPv4 with a header length under 20 bytes or past the frame, a total length
    /// under the header's or past the frame; IPv6 whose payload length runs past the frame. Options, fragments and
    /// Ethernet padding after the packet are fine.</summary>
    [Theory]
    [InlineData(0x45, 28, true)]
    [InlineData(0x44, 28, false)]   // IHL 4: 16 bytes, shorter than any IPv4 header
    [InlineData(0x40, 28, false)]   // IHL 0
    [InlineData(0x46, 28, true)]    // one option word, still inside the frame
    [InlineData(0x47, 28, true)]    // header and total length both 28 bytes
    [InlineData(0x48, 28, false)]   // header runs past the total length
    [InlineData(0x4f, 60, false)]   // 60-byte header, the frame holds 28
    [InlineData(0x45, 19, false)]   // total length under the header
    [InlineData(0x45, 29, false)]   // total length past the frame
    [InlineData(0x45, 20, true)]    // shorter than the frame: Ethernet padding
    public void A_malformed_ipv4_header_is_not_an_ip_frame(byte versionIhl, ushort totalLength, bool ip)
    {
        var f = Ipv4(64, [10, 0, 0, 1], [192, 0, 2, 7]);
        f[14] = versionIhl;
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(16), totalLength);
        Assert.Equal(ip ? IpFamily.Inet : IpFamily.Unspec, L3Frames.Destination(f, out _));
    }

    [Theory]
    [InlineData(8, true)]
    [InlineData(0, true)]
    [InlineData(9, false)]
    [InlineData(0xffff, false)]
    public void An_ipv6_payload_past_the_frame_is_not_an_ip_frame(ushort payloadLength, bool ip)
    {
        var f = Ipv6(Addr6("fd00::1"), Addr6("2001:db8::1"));
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(14 + 4), payloadLength);
        Assert.Equal(ip ? IpFamily.Inet6 : IpFamily.Unspec, L3Frames.Destination(f, out _));
    }

    /// <summary>Martian sources are never routed: IPv4 0/8, 127/8, 169.254/16, multicast, class E and limited
    /// broadcast; IPv6 ::, ::1, multicast, link-local. Anything else is left to the tenant's own prefixes.</summary>
    [Theory]
    [InlineData("0.0.0.0", false)]
    [InlineData("0.1.2.3", false)]
    [InlineData("127.0.0.1", false)]
    [InlineData("127.255.0.9", false)]
    [InlineData("169.254.7.7", false)]
    [InlineData("224.0.0.1", false)]
    [InlineData("239.1.1.1", false)]
    [InlineData("240.0.0.1", false)]
    [InlineData("255.255.255.255", false)]
    [InlineData("10.0.0.1", true)]
    [InlineData("1.0.0.1", true)]
    [InlineData("169.253.255.255", true)]
    [InlineData("223.255.255.254", true)]
    [InlineData("::", false)]
    [InlineData("::1", false)]
    [InlineData("ff02::1", false)]
    [InlineData("ff0e::5", false)]
    [InlineData("fe80::1", false)]
    [InlineData("febf::1", false)]
    [InlineData("fec0::1", true)]
    [InlineData("fd00::50", true)]
    [InlineData("2001:db8::1", true)]
    [InlineData("::2", true)]
    public void Martian_sources_are_not_routable(string source, bool routable)
    {
        var a = System.Net.IPAddress.Parse(source);
        bool v4 = a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork;
        var frame = v4 ? Ipv4(64, a.GetAddressBytes(), [192, 0, 2, 7]) : Ipv6(a.GetAddressBytes(), Addr6("2001:db8::7"));
        var family = L3Frames.Destination(frame, out _);
        Assert.Equal(v4 ? IpFamily.Inet : IpFamily.Inet6, family);
        Assert.Equal(a.GetAddressBytes(), L3Frames.Source(family, frame).ToArray());
        Assert.Equal(routable, L3Frames.RoutableSource(family, frame));
    }

    [Fact]
    public void An_arp_request_becomes_the_reply_with_the_given_mac()
    {
        var f = new byte[60];
        byte[] requester = [0x02, 0, 0, 0, 0, 0x11], port = [0x02, 0, 0, 0, 0, 0x22];
        f.AsSpan(0, 6).Fill(0xff);
        requester.CopyTo(f, 6);
        f[12] = 0x08; f[13] = 0x06;
        byte[] arp = [0, 1, 8, 0, 6, 4, 0, 1, .. requester, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 50];
        arp.CopyTo(f, 14);
        Assert.True(L3Frames.ArpRequestTarget(f, out var target));
        Assert.Equal(new byte[] { 10, 0, 0, 50 }, target.ToArray());

        L3Frames.AnswerArp(f, MacAddress.Read(port));
        Assert.Equal(requester, f[..6]);
        Assert.Equal(port, f[6..12]);
        Assert.Equal(2, f[14 + 7]); // ARPOP_REPLY
        Assert.Equal(port, f[22..28]);                       // sender: the port's MAC
        Assert.Equal(new byte[] { 10, 0, 0, 50 }, f[28..32]); // for the asked address
        Assert.Equal(requester, f[32..38]);
        Assert.Equal(new byte[] { 10, 0, 0, 1 }, f[38..42]);
        Assert.False(L3Frames.ArpRequestTarget(f, out _));   // a reply is not a request

        var gratuitous = new byte[60];
        f.CopyTo(gratuitous, 0);
        arp.CopyTo(gratuitous, 14);
        gratuitous[14 + 24 + 3] = 1; // target = sender 10.0.0.1
        Assert.False(L3Frames.ArpRequestTarget(gratuitous, out _));
    }

    /// <summary>Which tags name a VLAN: an 802.1Q tag with a VLAN ID, any 802.1ad tag, a priority tag (VLAN ID 0) with
    /// a tag behind it, a tag cut short; not a priority tag alone (its PCP bits set or not), not an untagged frame,
    /// not a frame too short for a type. From the tag at 16 on when a chain's tag is in front.</summary>
    [Theory]
    [InlineData("0800", 12, false)]
    [InlineData("8100000a0800", 12, true)]
    [InlineData("8100e00a0800", 12, true)]        // PCP 7, VLAN 10
    [InlineData("810000000800", 12, false)]       // priority tag, PCP 0
    [InlineData("8100e0000800", 12, false)]       // priority tag, PCP 7
    [InlineData("81000000810000 0a0800", 12, true)] // priority tag in front of VLAN 10's
    [InlineData("810000008 8a8000a0800", 12, true)] // priority tag in front of an 802.1ad tag
    [InlineData("88a800000800", 12, true)]        // 802.1ad, even with VLAN ID 0
    [InlineData("81000000", 12, true)]            // cut short behind the TCI
    [InlineData("8100", 12, true)]                // cut short in the TCI
    [InlineData("08", 12, false)]                 // no type
    [InlineData("8100006481000000 0800", 16, false)] // the chain's VLAN 100, then the tenant's priority tag
    [InlineData("81000064810000070800", 16, true)]   // the chain's VLAN 100, then the tenant's VLAN 7
    public void A_priority_tag_alone_names_no_VLAN(string fromType, int at, bool names)
    {
        var frame = new byte[12].Concat(Convert.FromHexString(fromType.Replace(" ", ""))).Concat(new byte[46]).ToArray();
        int end = 12 + fromType.Replace(" ", "").Length / 2;
        Assert.Equal(names, L3Frames.NamesVlan(frame.AsSpan(0, end), at));
        if (end >= at + 6 || !names) Assert.Equal(names, L3Frames.NamesVlan(frame, at)); // a payload behind changes nothing
    }
}
