using System.Buffers.Binary;
using Appliance.Bpf.Routing;
using Appliance.Config;
using Appliance.Datapath.Routing;
using Appliance.Datapath.Runtime;

namespace Appliance.Datapath.Forwarding;

/// <summary>What an L2 tenant may claim as its own, checked on what its peer side passes to the uplink (a switch's IP
/// source guard, dynamic ARP inspection and ND inspection on a host port). Hosts on the uplink take a tenant's word for
/// who has an address: an ARP packet of any kind (request, reply, gratuitous) updates the receiver's entry for its
/// sender address, a neighbour advertisement its target's, a solicitation its source's. So a tenant that says "the
/// board's address is at my MAC" takes the board's management traffic from every host that believes it, and one that
/// says so of another tenant's address takes that tenant's; one that sends from another tenant's address has the
/// answers (a reflection, an amplified DNS reply) sent to that tenant. Refused (the caller drops the frame and counts
/// it <see cref="PairDropReason.InvalidSource"/> on the pair's peer side):
/// <list type="bullet">
/// <item>a claimed address that is someone else's: one of the board's own (a local route of its local table, every
/// interface's), one another L2 tenant is configured with (<see cref="RuntimeTopology.L2Addresses"/>), or one in the
/// prefixes the uplink routes to its L3 tenants (the board answers ARP/ND for those there). The claimed address is an
/// IPv4 or IPv6 packet's source (0.0.0.0 and :: claim nothing: DHCP, duplicate address detection), ARP's sender
/// address (0.0.0.0, an ARP probe, claims nothing), and a neighbour advertisement's or redirect's target;</item>
/// <item>a link-layer address the tenant may not send from: ARP's sender hardware address and the source / target
/// link-layer address options of neighbour discovery must be MACs the pair owns on its uplink (its configured one
/// or one it learned, <see cref="Pairs.L2Classifier.Owns"/>), as its frames' source MACs must be.</item>
/// </list>
/// Addresses the appliance does not know (a tenant's DHCP lease, an outside host's) are not judged. Everything is read
/// behind any number of VLAN tags: ARP of Ethernet (hardware type 1, or 6 as Linux also takes it) and IPv4, IP
/// headers, and neighbour discovery (ICMPv6 133–137) behind IPv6 extension headers (a hop-by-hop or destination
/// options header does not hide an advertisement from a Linux host). Neighbour discovery in a fragment is refused (it
/// is never fragmented, RFC 6980, and its target could sit in a later fragment), and so is a first fragment whose
/// headers end before its upper-layer header (RFC 7112); a later fragment carries no headers and is not judged. What
/// a program redirects out of a port is judged as what the peer side passes. Reads only immutable snapshots; nothing
/// allocates.</summary>
public sealed class AddressGuard(IFibTables? tables)
{
    private const int ArpLength = 28;
    private const int IcmpV6 = 58, RouterSolicitation = 133, Redirect = 137, NeighbourAdvertisement = 136;
    private const int SourceLinkLayer = 1, TargetLinkLayer = 2;

    /// <summary>Whether <paramref name="frame"/>, which L2 pair <paramref name="pair"/>'s peer side sends out of
    /// board port <paramref name="port"/> (its <paramref name="uplink"/>, or another port a program redirected it to),
    /// claims an address or a link-layer address that is not the tenant's to claim. A frame that is none of IPv4, IPv6
    /// and ARP, or too short to be one, is not judged.</summary>
    public bool Refuses(ReadOnlySpan<byte> frame, PairRuntime pair, PortRuntime uplink, PortRuntime port, RuntimeTopology topology)
    {
        var where = new Where(pair, uplink, port, topology);
        int at = 12;
        ushort type;
        while (true)
        {
            if (frame.Length < at + 2) return false;
            type = BinaryPrimitives.ReadUInt16BigEndian(frame[at..]);
            if (type is not (L3Frames.EtherTypeVlan or L3Frames.EtherTypeQinQ)) break;
            at += 4;
        }
        var payload = frame[(at + 2)..];
        return type switch
        {
            L3Frames.EtherTypeIpv4 => RefusesIpv4(payload, where),
            L3Frames.EtherTypeArp => RefusesArp(payload, where),
            L3Frames.EtherTypeIpv6 => RefusesIpv6(payload, where),
            _ => false,
        };
    }

    private bool RefusesIpv4(ReadOnlySpan<byte> ip, in Where where)
    {
        if (ip.Length < 20 || ip[0] >> 4 != 4) return false;
        var source = ip.Slice(12, 4);
        return BinaryPrimitives.ReadUInt32BigEndian(source) != 0 && Claimed(IpFamily.Inet, source, where);
    }

    private bool RefusesArp(ReadOnlySpan<byte> arp, in Where where)
    {
        if (arp.Length < ArpLength || BinaryPrimitives.ReadUInt16BigEndian(arp) is not (1 or 6)
            || BinaryPrimitives.ReadUInt16BigEndian(arp[2..]) != L3Frames.EtherTypeIpv4 || arp[4] != 6 || arp[5] != 4)
            return false; // not Ethernet/IPv4 ARP: no host takes it as such
        if (!where.Uplink.Classifier.Owns(where.Pair.Index, MacAddress.Read(arp[8..]))) return true;
        var sender = arp.Slice(14, 4);
        return BinaryPrimitives.ReadUInt32BigEndian(sender) != 0 && Claimed(IpFamily.Inet, sender, where);
    }

    private bool RefusesIpv6(ReadOnlySpan<byte> ip, in Where where)
    {
        if (ip.Length < 40 || ip[0] >> 4 != 6) return false;
        var source = ip.Slice(8, 16);
        if (source.IndexOfAnyExcept((byte)0) >= 0 && Claimed(IpFamily.Inet6, source, where)) return true;
        int end = Math.Min(ip.Length, 40 + BinaryPrimitives.ReadUInt16BigEndian(ip[4..]));
        // A first fragment whose headers do not reach the upper-layer header hides what it is (RFC 7112 lets it be
        // dropped); a later fragment carries no headers.
        if (!L3Frames.Ipv6UpperLayer(ip, end, out byte next, out int at, out bool fragment)) return fragment;
        if (next != IcmpV6) return false;
        if (at + 8 > end) return fragment;
        var message = ip[at..end];
        int kind = message[0];
        if (kind is < RouterSolicitation or > Redirect) return false;
        // Neighbour discovery is never fragmented (RFC 6980); a fragment's target could sit in a later fragment.
        if (fragment) return true;
        // What the receiver files under a link-layer address: an advertisement's target; a redirect's target, which
        // Linux's rt6_do_redirect enters into its neighbour table with the target link-layer address option.
        if (kind is NeighbourAdvertisement or Redirect && message.Length >= 24
            && Claimed(IpFamily.Inet6, message.Slice(8, 16), where))
            return true;
        // Options follow the fixed part: RS 8 bytes, RA 16, NS and NA 24, redirect 40.
        int option = kind switch { RouterSolicitation => 8, 134 => 16, Redirect => 40, _ => 24 };
        while (option + 2 <= message.Length)
        {
            int length = message[option + 1] * 8;
            if (length == 0) return false; // a malformed option: receivers drop the whole message (RFC 4861 §4.6)
            if (message[option] is SourceLinkLayer or TargetLinkLayer && length >= 8 && option + 8 <= message.Length
                && !where.Uplink.Classifier.Owns(where.Pair.Index, MacAddress.Read(message[(option + 2)..])))
                return true;
            option += length;
        }
        return false;
    }

    /// <summary>The frame's sender and where it goes out.</summary>
    private readonly record struct Where(PairRuntime Pair, PortRuntime Uplink, PortRuntime Port, RuntimeTopology Topology);

    /// <summary>Whether <paramref name="address"/> is someone else's than the sending tenant's: another L2 tenant's
    /// configured address, in one of the L3 tenants' prefixes of its uplink or of the port it goes out of, or the
    /// board's own. The tenant's own configured address is its own even where it falls in one of those.</summary>
    private bool Claimed(IpFamily family, ReadOnlySpan<byte> address, in Where where)
    {
        if (where.Topology.L2Addresses.Lookup(family, address) is { } owner) return !ReferenceEquals(owner, where.Pair);
        return where.Uplink.L3Prefixes.Lookup(family, address) is not null
            || (!ReferenceEquals(where.Port, where.Uplink) && where.Port.L3Prefixes.Lookup(family, address) is not null)
            || BoardAddresses.IsLocal(tables, family, address);
    }
}
