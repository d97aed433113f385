using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Appliance.Bpf.Helpers;
using Appliance.Bpf.Routing;
using Appliance.Config;

namespace Appliance.Datapath.Forwarding;

/// <summary>The bytes an L3 pair's datapath reads and writes, in place and without allocating: the Ethernet type and
/// the IP destination of untagged IPv4/IPv6 frames, the TTL / hop limit step of a forwarding host (IPv4 header
/// checksum updated incrementally, as ip_decrease_ttl), the Ethernet addresses, and proxy answers — an ARP request
/// turned into the ARP reply and an IPv6 neighbour solicitation turned into the neighbour advertisement that the
/// owner of the address would send, with the port's MAC.</summary>
public static class L3Frames
{
    public const int EthernetHeader = 14;
    public const ushort EtherTypeIpv4 = 0x0800, EtherTypeIpv6 = 0x86dd, EtherTypeArp = 0x0806, EtherTypeVlan = 0x8100, EtherTypeQinQ = 0x88a8;
    private const int Ipv4SrcOffset = EthernetHeader + 12, Ipv4DstOffset = EthernetHeader + 16, Ipv6SrcOffset = EthernetHeader + 8, Ipv6DstOffset = EthernetHeader + 24;
    /// <summary>IP protocol numbers (IPv4's protocol, IPv6's next header).</summary>
    public const int Icmp = 1, Udp = 17, IcmpV6 = 58;
    private const int Ah = 51, NeighbourSolicitation = 135, NeighbourAdvertisement = 136;
    private const int ArpLength = EthernetHeader + 28, NsLength = EthernetHeader + 40 + 24, NaLength = EthernetHeader + 40 + 32;

    /// <summary>The Ethernet type of the frame (0 for a runt).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort EtherType(ReadOnlySpan<byte> frame) => frame.Length >= EthernetHeader ? BinaryPrimitives.ReadUInt16BigEndian(frame[12..]) : (ushort)0;

    /// <summary>The IP family of an untagged IPv4 or IPv6 frame whose header is well formed, and its destination
    /// address; Unspec for anything else. Well formed as the kernel's ip_rcv / ipv6_rcv check it before a packet may
    /// be forwarded (RFC 1812 §5.2.2): the version; IPv4's header length at least 20 bytes, its total length at least
    /// the header and both inside the frame; IPv6's payload length inside the frame (bytes after the packet are
    /// Ethernet padding).</summary>
    public static IpFamily Destination(ReadOnlySpan<byte> frame, out ReadOnlySpan<byte> destination)
    {
        destination = default;
        switch (EtherType(frame))
        {
            case EtherTypeIpv4 when frame.Length >= EthernetHeader + 20 && (frame[EthernetHeader] >> 4) == 4
                                   && WellFormedIpv4(frame[EthernetHeader..]):
                destination = frame.Slice(Ipv4DstOffset, 4);
                return IpFamily.Inet;
            case EtherTypeIpv6 when frame.Length >= EthernetHeader + 40 && (frame[EthernetHeader] >> 4) == 6
                                   && 40 + BinaryPrimitives.ReadUInt16BigEndian(frame[(EthernetHeader + 4)..]) <= frame.Length - EthernetHeader:
                destination = frame.Slice(Ipv6DstOffset, 16);
                return IpFamily.Inet6;
            default:
                return IpFamily.Unspec;
        }
    }

    private static bool WellFormedIpv4(ReadOnlySpan<byte> ip)
    {
        int header = (ip[0] & 0x0f) * 4, total = BinaryPrimitives.ReadUInt16BigEndian(ip[2..]);
        return header >= 20 && total >= header && total <= ip.Length;
    }

    /// <summary>Whether the frame carries a VLAN tag (802.1Q or 802.1ad) in its bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Tagged(ReadOnlySpan<byte> frame) => EtherType(frame) is EtherTypeVlan or EtherTypeQinQ;

    /// <summary>Whether the frame, from the tag (or type) at <paramref name="at"/> on, names a VLAN: an 802.1ad tag, an
    /// 802.1Q tag with a VLAN ID, or a priority tag (802.1Q, VLAN ID 0: 802.1p priority only) with another tag behind
    /// it. A priority tag alone names none: 802.1Q puts such a frame in the VLAN of the port it arrives on, as an
    /// untagged one, and a Linux host takes it as untagged. A tag cut short by the frame's end names one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool NamesVlan(ReadOnlySpan<byte> frame, int at = 12) =>
        frame.Length >= at + 2 && BinaryPrimitives.ReadUInt16BigEndian(frame[at..]) is EtherTypeVlan or EtherTypeQinQ && TagNamesVlan(frame, at);

    /// <summary><see cref="NamesVlan"/> for a frame with a tag at <paramref name="at"/>.</summary>
    private static bool TagNamesVlan(ReadOnlySpan<byte> frame, int at)
    {
        if (BinaryPrimitives.ReadUInt16BigEndian(frame[at..]) == EtherTypeQinQ) return true;
        if (frame.Length < at + 6 || (BinaryPrimitives.ReadUInt16BigEndian(frame[(at + 2)..]) & 0x0fff) != 0) return true;
        return BinaryPrimitives.ReadUInt16BigEndian(frame[(at + 4)..]) is EtherTypeVlan or EtherTypeQinQ;
    }

    /// <summary>The source address of a frame <see cref="Destination"/> found to be of <paramref name="family"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ReadOnlySpan<byte> Source(IpFamily family, ReadOnlySpan<byte> frame) =>
        family == IpFamily.Inet ? frame.Slice(Ipv4SrcOffset, 4) : frame.Slice(Ipv6SrcOffset, 16);

    /// <summary>Whether a router may forward a packet to this destination at all: not to a link-local, multicast,
    /// loopback or unspecified address (RFC 1812 §5.3.7, RFC 4291 §2.5.6), nor to IPv4 limited broadcast or class E
    /// (<see cref="MartianAddress"/>).</summary>
    public static bool Forwardable(IpFamily family, ReadOnlySpan<byte> frame) =>
        MartianAddress.Of(family == IpFamily.Inet ? frame.Slice(Ipv4DstOffset, 4) : frame.Slice(Ipv6DstOffset, 16)) == MartianKind.None;

    /// <summary>Whether a router may forward a packet from this source at all (a martian source is never routed,
    /// RFC 1812 §5.3.7, RFC 4291 §2.5): not IPv4 0.0.0.0/8 ("this network"), 127/8, 169.254/16 (link-local),
    /// multicast, class E or limited broadcast (224/3 and up); not IPv6 :: , ::1, multicast or link-local (fe80::/10:
    /// neighbour discovery and other traffic of the link only, never routed). The list is <see cref="MartianAddress"/>,
    /// the config's too.</summary>
    public static bool RoutableSource(IpFamily family, ReadOnlySpan<byte> frame) =>
        MartianAddress.Of(Source(family, frame)) == MartianKind.None;

    /// <summary>Whether the packet of a frame <see cref="Destination"/> found to be of <paramref name="family"/> is an
    /// ICMP / ICMPv6 error message (destination unreachable, source quench, redirect, time exceeded, parameter problem;
    /// ICMPv6 also packet too big; behind authentication headers and any IPv6 extension headers), and the destination of the packet it quotes
    /// (the one that caused it): empty when it quotes too little of an IP header to tell. False for anything else,
    /// and for a fragment other than the first (it carries no ICMP header).</summary>
    public static bool IcmpError(IpFamily family, ReadOnlySpan<byte> frame, out ReadOnlySpan<byte> quotedDestination)
    {
        quotedDestination = default;
        var ip = frame[EthernetHeader..];
        ReadOnlySpan<byte> message;
        if (family == IpFamily.Inet)
        {
            int total = BinaryPrimitives.ReadUInt16BigEndian(ip[2..]);
            if (!Ipv4UpperLayer(ip, total, out byte protocol, out int header, out _) || protocol != Icmp || total <= header) return false;
            message = ip[header..total];
            if (message[0] is not (3 or 4 or 5 or 11 or 12)) return false;
            if (message.Length >= 8 + 20 && message[8] >> 4 == 4) quotedDestination = message.Slice(8 + 16, 4);
            return true;
        }
        int end = 40 + BinaryPrimitives.ReadUInt16BigEndian(ip[4..]);
        if (!Ipv6UpperLayer(ip, end, out byte next, out int at, out _) || next != IcmpV6 || at >= end) return false;
        message = ip[at..end];
        if (message[0] is not (1 or 2 or 3 or 4)) return false;
        if (message.Length >= 8 + 40 && message[8] >> 4 == 6) quotedDestination = message.Slice(8 + 24, 16);
        return true;
    }

    /// <summary>Where the upper-layer header of the IPv4 packet <paramref name="ip"/> (its bytes up to
    /// <paramref name="end"/>; a header of at least 20 bytes that ends before it) starts, past its options and any
    /// authentication headers (RFC 4302; the ICMP message or UDP header may follow them): its protocol
    /// <paramref name="next"/> at offset <paramref name="at"/>. False for a later fragment (offset not 0: it carries
    /// no upper-layer header) and for authentication headers that run past <paramref name="end"/>;
    /// <paramref name="firstFragment"/> says whether it is the first of several fragments (offset 0, more fragments).</summary>
    public static bool Ipv4UpperLayer(ReadOnlySpan<byte> ip, int end, out byte next, out int at, out bool firstFragment)
    {
        ushort fragment = BinaryPrimitives.ReadUInt16BigEndian(ip[6..]);
        at = (ip[0] & 0x0f) * 4;
        next = ip[9];
        firstFragment = (fragment & 0x3fff) == 0x2000;
        if ((fragment & 0x1fff) != 0) return false;
        while (next == Ah)
        {
            if (at + 8 > end) return false;
            next = ip[at];
            at += (ip[at + 1] + 2) * 4;
        }
        return true;
    }

    /// <summary>Where the payload behind the frame's VLAN tags (any number of 802.1Q and 802.1ad) starts, and its
    /// Ethernet type; -1 when the frame ends before a type.</summary>
    public static int PastTags(ReadOnlySpan<byte> frame, out ushort etherType)
    {
        int at = 12;
        while (true)
        {
            if (frame.Length < at + 2)
            {
                etherType = 0;
                return -1;
            }
            etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[at..]);
            if (etherType is not (EtherTypeVlan or EtherTypeQinQ)) return at + 2;
            at += 4;
        }
    }

    /// <summary>Where the upper-layer header of the IPv6 packet <paramref name="ip"/> (its bytes up to
    /// <paramref name="end"/>) starts, past hop-by-hop, routing, fragment, destination options and authentication
    /// headers (AH's length counts 4-byte units minus 2, RFC 4302; the others' 8-byte units minus 1): its protocol
    /// <paramref name="next"/> at offset <paramref name="at"/>. False for a later fragment (it carries no headers) and
    /// for headers that run past <paramref name="end"/>; <paramref name="firstFragment"/> says whether the headers
    /// passed included the fragment header of a first fragment.</summary>
    public static bool Ipv6UpperLayer(ReadOnlySpan<byte> ip, int end, out byte next, out int at, out bool firstFragment)
    {
        at = 40;
        next = ip[6];
        firstFragment = false;
        while (next is 0 or 43 or 44 or 60 or Ah)
        {
            if (at + 8 > end) return false;
            if (next == 44)
            {
                if ((BinaryPrimitives.ReadUInt16BigEndian(ip[(at + 2)..]) & 0xfff8) != 0) return false;
                firstFragment = true;
            }
            int length = next == 44 ? 8 : next == Ah ? (ip[at + 1] + 2) * 4 : (ip[at + 1] + 1) * 8;
            next = ip[at];
            at += length;
        }
        return true;
    }

    private static bool Unspecified6(ReadOnlySpan<byte> a) => a.IndexOfAnyExcept((byte)0) < 0;

    /// <summary>Decrements the IPv4 TTL (header checksum updated) or the IPv6 hop limit. False, and nothing changed,
    /// when it is 1 or 0: the packet expires here.</summary>
    public static bool DecrementTtl(IpFamily family, Span<byte> frame)
    {
        if (family == IpFamily.Inet)
        {
            var ip = frame[EthernetHeader..];
            if (ip[8] <= 1) return false;
            ushort before = BinaryPrimitives.ReadUInt16LittleEndian(ip[8..]);
            ip[8]--;
            ushort after = BinaryPrimitives.ReadUInt16LittleEndian(ip[8..]);
            ushort sum = BinaryPrimitives.ReadUInt16LittleEndian(ip[10..]);
            BinaryPrimitives.WriteUInt16LittleEndian(ip[10..], InternetChecksum.Replace2(sum, before, after));
            return true;
        }
        ref byte hop = ref frame[EthernetHeader + 7];
        if (hop <= 1) return false;
        hop--;
        return true;
    }

    /// <summary>Writes the Ethernet destination and source.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteEthernet(Span<byte> frame, MacAddress destination, MacAddress source)
    {
        WriteMac(frame, destination);
        WriteMac(frame[6..], source);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteMac(Span<byte> at, MacAddress mac)
    {
        BinaryPrimitives.WriteUInt16BigEndian(at, (ushort)(mac.Value >> 32));
        BinaryPrimitives.WriteUInt32BigEndian(at[2..], (uint)mac.Value);
    }

    /// <summary>The target address of an Ethernet/IPv4 ARP request (not a gratuitous one), or false.</summary>
    public static bool ArpRequestTarget(ReadOnlySpan<byte> frame, out ReadOnlySpan<byte> target)
    {
        target = default;
        if (frame.Length < ArpLength || EtherType(frame) != EtherTypeArp) return false;
        var arp = frame[EthernetHeader..];
        if (BinaryPrimitives.ReadUInt16BigEndian(arp) != 1 || BinaryPrimitives.ReadUInt16BigEndian(arp[2..]) != EtherTypeIpv4
            || arp[4] != 6 || arp[5] != 4 || BinaryPrimitives.ReadUInt16BigEndian(arp[6..]) != 1) return false;
        if (arp.Slice(14, 4).SequenceEqual(arp.Slice(24, 4))) return false; // gratuitous: announces the sender's own address
        target = arp.Slice(24, 4);
        return true;
    }

    /// <summary>Turns the ARP request in <paramref name="frame"/> into the reply "target is at <paramref name="mac"/>",
    /// addressed to the requester.</summary>
    public static void AnswerArp(Span<byte> frame, MacAddress mac)
    {
        var arp = frame[EthernetHeader..];
        Span<byte> senderMac = stackalloc byte[6];
        arp.Slice(8, 6).CopyTo(senderMac);
        uint senderIp = BinaryPrimitives.ReadUInt32BigEndian(arp[14..]), targetIp = BinaryPrimitives.ReadUInt32BigEndian(arp[24..]);
        senderMac.CopyTo(frame);        // Ethernet destination: the requester
        WriteMac(frame[6..], mac);
        BinaryPrimitives.WriteUInt16BigEndian(arp[6..], 2); // ARPOP_REPLY
        WriteMac(arp[8..], mac);
        BinaryPrimitives.WriteUInt32BigEndian(arp[14..], targetIp);
        senderMac.CopyTo(arp[18..]);
        BinaryPrimitives.WriteUInt32BigEndian(arp[24..], senderIp);
    }

    /// <summary>The target address of an IPv6 neighbour solicitation (hop limit 255, not DAD: the source is not ::),
    /// or false.</summary>
    public static bool NeighbourSolicitationTarget(ReadOnlySpan<byte> frame, out ReadOnlySpan<byte> target)
    {
        target = default;
        if (frame.Length < NsLength || EtherType(frame) != EtherTypeIpv6) return false;
        var ip = frame[EthernetHeader..];
        if ((ip[0] >> 4) != 6 || ip[6] != IcmpV6 || ip[7] != 255 || BinaryPrimitives.ReadUInt16BigEndian(ip[4..]) < 24) return false;
        var icmp = ip[40..];
        if (icmp[0] != NeighbourSolicitation || icmp[1] != 0 || Unspecified6(ip.Slice(8, 16))) return false;
        target = icmp.Slice(8, 16);
        return target[0] != 0xff;
    }

    /// <summary>Turns the neighbour solicitation in the frame into the solicited advertisement "target is at
    /// <paramref name="mac"/>" (S and O set, target link-layer address option), addressed to the soliciting node.
    /// False when the frame has no room for the answer (it is longer than the question by up to 8 bytes).</summary>
    public static bool AnswerNeighbourSolicitation(ref Engine.FrameView view, MacAddress mac)
    {
        if (view.Length != NaLength && !view.AdjustTail(NaLength - view.Length)) return false;
        var frame = view.Data;
        var ip = frame[EthernetHeader..];
        var icmp = ip[40..];
        Span<byte> solicitor = stackalloc byte[16];
        ip.Slice(8, 16).CopyTo(solicitor);
        frame.Slice(6, 6).CopyTo(frame);  // Ethernet destination: the soliciting node
        WriteMac(frame[6..], mac);
        BinaryPrimitives.WriteUInt32BigEndian(ip, 0x6000_0000);
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], 32);
        ip[6] = IcmpV6;
        ip[7] = 255;
        icmp.Slice(8, 16).CopyTo(ip[8..]);  // source: the target address itself
        solicitor.CopyTo(ip[24..]);
        icmp[0] = NeighbourAdvertisement;
        icmp[1] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(icmp[2..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(icmp[4..], 0x6000_0000); // Solicited | Override
        icmp[24] = 2; // target link-layer address option, 8 bytes
        icmp[25] = 1;
        WriteMac(icmp[26..], mac);
        BinaryPrimitives.WriteUInt16LittleEndian(icmp[2..], IcmpV6Checksum(ip, 32));
        return true;
    }

    /// <summary>The ICMPv6 checksum over the pseudo-header (source, destination, length, next header) and the message.</summary>
    public static ushort IcmpV6Checksum(ReadOnlySpan<byte> ipv6, int length)
    {
        Span<byte> tail = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(tail, (uint)length);
        BinaryPrimitives.WriteUInt32BigEndian(tail[4..], IcmpV6);
        uint sum = InternetChecksum.Partial(ipv6.Slice(8, 32), 0);
        sum = InternetChecksum.Partial(tail, sum);
        sum = InternetChecksum.Partial(ipv6.Slice(40, length), sum);
        return InternetChecksum.Fold(sum);
    }
}
