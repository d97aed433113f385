using System.Net;
using Appliance.Config;
using Appliance.Datapath.Forwarding;
using Appliance.Datapath.Replay;
using Appliance.Datapath.Runtime;
using Appliance.Datapath.Tests.Engine;
using Xunit;

namespace Appliance.Datapath.Tests.Routing;

/// <summary>The L3 router's source check through the datapath's own decision (replay: <see cref="PairFrameHandler"/>
/// and <see cref="L3Router"/> on an offline topology with no routing tables, so a frame that passes every check ends
/// as <c>noRoute</c>): a tenant sends only from its own prefixes; another tenant's address, the board's, and
/// martian sources are <c>invalidSource</c>, counted on the pair's peer side and named in the decision text (as
/// capture comments and `replay` print it). VLAN-tagged frames are <c>vlanTagged</c>. From the port, a packet for a
/// tenant whose source is a tenant's own or a martian is dropped as the port's <c>invalidSource</c>.</summary>
public sealed class L3SourceCheckTests
{
    private static readonly byte[] PortMac = [0x02, 0, 0, 0, 0xfe, 0], Outside = [0x02, 0, 0, 0, 0, 0x99];

    private static OfflineTopology Load()
    {
        var result = ConfigLoader.LoadBytes(System.Text.Encoding.UTF8.GetBytes("""
            {
              "board": "test",
              "ports": [{ "name": "eth0" }],
              "pairs": [
                { "name": "a", "mode": "l3", "uplink": "eth0",
                  "tenant": { "netns": "ta", "interface": "eth0", "addresses": ["10.9.0.5/32", "10.9.8.1/24", "fd09::5/128"] } },
                { "name": "b", "mode": "l3", "uplink": "eth0",
                  "tenant": { "netns": "tb", "interface": "eth0", "addresses": ["10.9.0.6/32", "10.9.8.77/32", "fd09::6/128"] } }
              ],
              "programs": []
            }
            """), "l3.json", ".");
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        return OfflineTopology.Build(result.Config!, ".");
    }

    private static byte[] Packet(byte[] dstMac, string source, string destination, ushort tag = 0) =>
        TestFrames.Ip(dstMac, Outside, IPAddress.Parse(source).GetAddressBytes(), IPAddress.Parse(destination).GetAddressBytes(), 17,
            new byte[8], tag);

    [Theory]
    [InlineData("10.9.0.5", "192.0.2.1", "noRoute")]        // its own /32: passes the check (offline there is no route)
    [InlineData("10.9.8.200", "192.0.2.1", "noRoute")]      // inside its own /24
    [InlineData("fd09::5", "2001:db8::1", "noRoute")]
    [InlineData("10.9.0.6", "192.0.2.1", "invalidSource")]  // tenant b's address
    [InlineData("10.9.8.77", "192.0.2.1", "invalidSource")] // b's /32 inside a's /24: the longest match is b's
    [InlineData("fd09::6", "2001:db8::1", "invalidSource")]
    [InlineData("10.9.0.254", "192.0.2.1", "invalidSource")] // the board's (anyone else's) address
    [InlineData("0.0.0.0", "192.0.2.1", "invalidSource")]
    [InlineData("127.0.0.1", "192.0.2.1", "invalidSource")]
    [InlineData("224.0.0.9", "192.0.2.1", "invalidSource")]
    [InlineData("255.255.255.255", "192.0.2.1", "invalidSource")]
    [InlineData("::", "2001:db8::1", "invalidSource")]
    [InlineData("::1", "2001:db8::1", "invalidSource")]
    [InlineData("ff02::1", "2001:db8::1", "invalidSource")]
    [InlineData("fe80::5", "2001:db8::1", "invalidSource")]  // link-local: never routed
    [InlineData("fe80::5", "ff02::2", "noRoute")]            // link-local to a group: the link's own traffic, not routed, not a spoof
    [InlineData("10.9.0.5", "10.9.0.6", "isolation")]        // its own source to tenant b
    [InlineData("10.9.0.6", "10.9.0.6", "invalidSource")]    // as b to b: the source check comes first
    public void A_tenant_sends_only_from_its_own_addresses(string source, string destination, string reason)
    {
        var offline = Load();
        using var replayer = new FrameReplayer(offline);
        var a = offline.Topology.Pairs[0];
        var r = replayer.Replay(ReplayInput.AtSide(a, PairSideKind.Peer), Packet(Outside, source, destination));
        Assert.Equal($"verdict=drop side=a/peer policy=pass reason={reason}", r.Decision);
        Assert.Equal(reason == "invalidSource" ? 1 : 0, a.Peer.Counters.Drops(PairDropReason.InvalidSource));
        Assert.Equal(0, offline.Topology.Pairs[1].Primary.Counters.RxPackets);
    }

    /// <summary>An ICMP (ICMPv6) error from <paramref name="source"/> to <paramref name="destination"/> of type
    /// <paramref name="type"/>, quoting a UDP packet from <paramref name="quotedSource"/> to
    /// <paramref name="quotedDestination"/> (its IP header and 8 bytes); <paramref name="extension"/>: behind an IPv6
    /// destination options header.</summary>
    private static byte[] IcmpError(string source, string destination, byte type, string quotedSource, string quotedDestination, bool extension = false)
    {
        bool v4 = !source.Contains(':');
        var icmp = TestFrames.Icmp(type, 0, 0, Packet(Outside, quotedSource, quotedDestination).AsSpan(14), checksum: v4);
        byte[] options = extension ? [58, 0, 1, 4, 0, 0, 0, 0] : []; // next header ICMPv6; length 0: 8 bytes of PadN
        return TestFrames.Ip(Outside, Outside, IPAddress.Parse(source).GetAddressBytes(), IPAddress.Parse(destination).GetAddressBytes(),
            v4 ? (byte)1 : extension ? (byte)60 : (byte)58, [.. options, .. icmp]);
    }

    [Theory]
    [InlineData("10.9.0.5", "192.0.2.1", 3, "192.0.2.1", "10.9.0.5", "noRoute")]      // port unreachable for its own flow
    [InlineData("10.9.0.5", "192.0.2.1", 11, "192.0.2.1", "10.9.8.200", "noRoute")]   // time exceeded inside its /24
    [InlineData("10.9.0.5", "192.0.2.1", 3, "192.0.2.1", "10.9.0.6", "invalidSource")]   // about a packet to tenant b
    [InlineData("10.9.0.5", "192.0.2.1", 3, "192.0.2.1", "10.9.8.77", "invalidSource")]  // b's /32 inside a's /24
    [InlineData("10.9.0.5", "192.0.2.1", 3, "192.0.2.1", "10.9.0.254", "invalidSource")] // about the board's flow
    [InlineData("10.9.0.5", "192.0.2.1", 8, "192.0.2.1", "10.9.0.6", "noRoute")]      // an echo request is no error
    [InlineData("fd09::5", "2001:db8::1", 2, "2001:db8::1", "fd09::5", "noRoute")]    // packet too big for its own flow
    [InlineData("fd09::5", "2001:db8::1", 2, "2001:db8::1", "fd09::6", "invalidSource")]
    [InlineData("fd09::5", "2001:db8::1", 1, "2001:db8::1", "fd09::6", "invalidSource")]
    public void A_tenant_sends_ICMP_errors_only_about_packets_it_received(string source, string destination, byte type,
        string quotedSource, string quotedDestination, string reason)
    {
        foreach (bool extension in source.Contains(':') ? [false, true] : new[] { false })
        {
            var offline = Load();
            using var replayer = new FrameReplayer(offline);
            var a = offline.Topology.Pairs[0];
            var r = replayer.Replay(ReplayInput.AtSide(a, PairSideKind.Peer),
                IcmpError(source, destination, type, quotedSource, quotedDestination, extension));
            Assert.Equal($"verdict=drop side=a/peer policy=pass reason={reason}", r.Decision);
        }
    }

    /// <summary>An IPv4 ICMP error behind IP options (IHL 6, four NOPs) is found and checked as one without them: the
    /// message starts at the header length the packet states, not at 20 bytes.</summary>
    [Theory]
    [InlineData("10.9.0.5", "noRoute")]
    [InlineData("10.9.0.6", "invalidSource")]
    public void An_ICMP_error_behind_IPv4_options_is_checked(string quotedDestination, string reason)
    {
        var offline = Load();
        using var replayer = new FrameReplayer(offline);
        var a = offline.Topology.Pairs[0];
        var plain = IcmpError("10.9.0.5", "192.0.2.1", 3, "192.0.2.1", quotedDestination);
        var f = new byte[plain.Length + 4];
        plain.AsSpan(0, 14 + 20).CopyTo(f);
        f.AsSpan(14 + 20, 4).Fill(1); // NOP options
        plain.AsSpan(14 + 20).CopyTo(f.AsSpan(14 + 24));
        f[14] = 0x46;
        f[14 + 3] += 4;
        Assert.Equal($"verdict=drop side=a/peer policy=pass reason={reason}", replayer.Replay(ReplayInput.AtSide(a, PairSideKind.Peer), f).Decision);
    }

    /// <summary>An ICMP / ICMPv6 error behind an authentication header (RFC 4302: 12 bytes and a 12-byte ICV, its
    /// length field in 4-byte units minus 2, unlike the other IPv6 extension headers) is found and checked like one
    /// without it: a tenant cannot slip a forged error past the check by wrapping it in AH.</summary>
    [Theory]
    [InlineData("10.9.0.5", "192.0.2.1", "192.0.2.1", "10.9.0.5", "noRoute")]
    [InlineData("10.9.0.5", "192.0.2.1", "192.0.2.1", "10.9.0.6", "invalidSource")]
    [InlineData("fd09::5", "2001:db8::1", "2001:db8::1", "fd09::5", "noRoute")]
    [InlineData("fd09::5", "2001:db8::1", "2001:db8::1", "fd09::6", "invalidSource")]
    public void An_ICMP_error_behind_an_authentication_header_is_checked(string source, string destination, string quotedSource,
        string quotedDestination, string reason)
    {
        var offline = Load();
        using var replayer = new FrameReplayer(offline);
        var a = offline.Topology.Pairs[0];
        bool v4 = !source.Contains(':');
        var icmp = TestFrames.Icmp(v4 ? (byte)3 : (byte)1, 0, 0, Packet(Outside, quotedSource, quotedDestination).AsSpan(14), checksum: v4);
        var ah = new byte[24];
        ah[0] = v4 ? (byte)1 : (byte)58; // next header: ICMP / ICMPv6
        ah[1] = 24 / 4 - 2;
        ah[7] = 1; // SPI 1; sequence number and ICV left zero
        var f = TestFrames.Ip(Outside, Outside, IPAddress.Parse(source).GetAddressBytes(), IPAddress.Parse(destination).GetAddressBytes(),
            51, [.. ah, .. icmp]);
        Assert.Equal($"verdict=drop side=a/peer policy=pass reason={reason}", replayer.Replay(ReplayInput.AtSide(a, PairSideKind.Peer), f).Decision);
    }

    /// <summary>IPv6 extension headers (destination options, 8 bytes each) chained to the end of the packet: an
    /// ICMPv6 error behind 50 of them is still found and checked; a chain that runs to the packet's end, or whose last
    /// header claims more bytes than are left, carries no ICMPv6 message and is no error (the receiver's kernel drops
    /// it as malformed); neither loops or reads past the frame.</summary>
    [Theory]
    [InlineData(true, false, "invalidSource")]
    [InlineData(false, false, "noRoute")]
    [InlineData(false, true, "noRoute")]
    public void An_IPv6_extension_header_chain_to_the_packet_end_is_walked_safely(bool icmpAtEnd, bool overlong, string reason)
    {
        var offline = Load();
        using var replayer = new FrameReplayer(offline);
        var a = offline.Topology.Pairs[0];
        const int Headers = 50;
        var icmp = icmpAtEnd ? TestFrames.Icmp(1, 0, 0, Packet(Outside, "2001:db8::1", "fd09::6").AsSpan(14), checksum: false) : [];
        var chain = new byte[Headers * 8];
        for (int i = 0; i < Headers; i++)
        {
            chain[i * 8] = i < Headers - 1 || !icmpAtEnd ? (byte)60 : (byte)58; // the next header: options again, last ICMPv6
            chain[i * 8 + 2] = 1; // PadN, 4 bytes
            chain[i * 8 + 3] = 4;
        }
        if (overlong) chain[^7] = 200; // the last header's length: 201 × 8 bytes, past the end
        var f = TestFrames.Ip(Outside, Outside, IPAddress.Parse("fd09::5").GetAddressBytes(), IPAddress.Parse("2001:db8::1").GetAddressBytes(),
            60, [.. chain, .. icmp]);
        Assert.Equal($"verdict=drop side=a/peer policy=pass reason={reason}", replayer.Replay(ReplayInput.AtSide(a, PairSideKind.Peer), f).Decision);
    }

    [Fact]
    public void An_ICMP_error_quoting_too_little_to_tell_is_invalidSource()
    {
        var offline = Load();
        using var replayer = new FrameReplayer(offline);
        var a = offline.Topology.Pairs[0];
        var f = IcmpError("10.9.0.5", "192.0.2.1", 3, "192.0.2.1", "10.9.0.5");
        var cut = f.AsSpan(0, 14 + 20 + 8 + 12).ToArray();
        cut[14 + 3] = 20 + 8 + 12;
        Assert.Equal("verdict=drop side=a/peer policy=pass reason=invalidSource", replayer.Replay(ReplayInput.AtSide(a, PairSideKind.Peer), cut).Decision);
    }

    [Fact]
    public void A_tagged_frame_from_an_L3_tenant_is_dropped_as_vlanTagged()
    {
        var offline = Load();
        using var replayer = new FrameReplayer(offline);
        var a = offline.Topology.Pairs[0];
        var r = replayer.Replay(ReplayInput.AtSide(a, PairSideKind.Peer), Packet(Outside, "10.9.0.5", "192.0.2.1", tag: 7));
        Assert.Equal("verdict=drop side=a/peer policy=pass reason=vlanTagged", r.Decision);
        Assert.Equal(1, a.Peer.Counters.Drops(PairDropReason.VlanTagged));
    }

    [Theory]
    [InlineData("192.0.2.1", "10.9.0.5", "verdict=pass side=a/primary policy=pass target=a")]
    [InlineData("2001:db8::1", "fd09::6", "verdict=pass side=b/primary policy=pass target=b")]
    [InlineData("10.9.0.6", "10.9.0.5", "verdict=drop reason=invalidSource")]   // as tenant b, from outside
    [InlineData("fd09::5", "fd09::6", "verdict=drop reason=invalidSource")]
    [InlineData("0.0.0.0", "10.9.0.5", "verdict=drop reason=invalidSource")]
    [InlineData("127.0.0.1", "10.9.0.5", "verdict=drop reason=invalidSource")]
    [InlineData("fe80::1", "fd09::5", "verdict=drop reason=invalidSource")]
    public void From_the_port_a_spoofed_or_martian_source_does_not_reach_a_tenant(string source, string destination, string decision)
    {
        var offline = Load();
        using var replayer = new FrameReplayer(offline);
        var r = replayer.Replay(ReplayInput.AtPort(0), Packet(PortMac, source, destination));
        Assert.Equal(decision, r.Decision);
    }
}
