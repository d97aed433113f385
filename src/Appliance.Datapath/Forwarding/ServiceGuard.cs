using System.Buffers.Binary;
using Appliance.Config;
using Appliance.Datapath.Runtime;

namespace Appliance.Datapath.Forwarding;

/// <summary>What only a router or a DHCP server sends, checked on what an L2 tenant's peer side lets out, to a port or
/// into another pair (<see cref="TenantGuard"/>; a
/// switch's RA guard, RFC 6105, and DHCP snooping / DHCPv6-Shield, RFC 7610, on a host port). Hosts believe whoever
/// sends these: an IPv6 host takes any router advertisement's sender for a default router, a DHCP client the first
/// offer's server for its address, gateway and DNS. So one tenant could take the traffic of every host on the LAN
/// (the uplink's, and the tenants of other ports on it). By default a tenant is a host, and refused (the caller drops
/// the frame and counts it <see cref="PairDropReason.RogueService"/> on the pair's peer side) are:
/// <list type="bullet">
/// <item>unless it serves <see cref="TenantService.Router"/>: ICMPv6 router advertisement (134), redirect (137) and
/// router renumbering (138); ICMPv4 redirect (5) and router advertisement (9, RFC 1256); the multicast queries of IGMP
/// (0x11) and MLD (130), which only a multicast router or a switch's querier sends (a rogue querier with a lower
/// address takes the LAN's querier election, RFC 3376 §6.6.2 / RFC 3810 §7.6.2, and its lifetimes decide when every
/// snooping switch stops forwarding a group);</item>
/// <item>unless it serves <see cref="TenantService.Dhcp"/>: DHCPv4 — UDP from port 67 or to port 68 (servers and
/// relay agents send from 67, and only they send to a client's 68; RFC 2131 §4.1), and to port 67 a BOOTREPLY (op 2:
/// a server's answer to a relay agent) or a relayed message (giaddr not 0.0.0.0: a relay agent's, which a server
/// answers at that address); DHCPv6 — UDP from port 547 or to port 546 (the server/relay port and the client port,
/// RFC 8415 §7.2), and to port 547 a message only a server or relay sends: ADVERTISE 2, REPLY 7, RECONFIGURE 10,
/// RELAY-FORW 12, RELAY-REPL 13, LEASEQUERY-REPLY 15, LEASEQUERY-DONE 16, LEASEQUERY-DATA 17 and DHCPV4-RESPONSE 21.</item>
/// </list>
/// Read behind any number of VLAN tags, IPv4 options and authentication headers, and IPv6 extension headers. A first
/// fragment whose headers end before its ICMP type or UDP ports is refused (they would be in a later fragment;
/// RFC 7112 for IPv6 — an IPv4 fragment's data is a multiple of 8 bytes, so such a first fragment carries none of its
/// upper layer); a later fragment carries no ports nor type and is not judged: without its first fragment, judged
/// here, no receiver reassembles it (and a DHCP message or router advertisement is never fragmented in practice: it
/// fits the minimum MTU). Anything malformed no host takes (a bad IPv4 header length, a truncated unfragmented
/// packet) is not judged. Stateless; nothing allocates; a frame that is neither UDP nor ICMP costs a few compares.</summary>
public static class ServiceGuard
{
    private const int Ipv4Redirect = 5, Ipv4RouterAdvertisement = 9, Igmp = 2, IgmpQuery = 0x11;
    private const int MldQuery = 130, RouterAdvertisement = 134, Redirect = 137, RouterRenumbering = 138;

    /// <summary>Whether <paramref name="frame"/>, which L2 pair <paramref name="pair"/>'s peer side sends out of a
    /// board port, is a message only a router or a DHCP server (or relay) sends that the tenant does not serve.</summary>
    public static bool Refuses(ReadOnlySpan<byte> frame, PairRuntime pair) => Refuses(frame, pair.ServesRouter, pair.ServesDhcp);

    /// <summary>Whether <paramref name="frame"/> is such a message from a tenant that serves as a router
    /// (<paramref name="router"/>) and as a DHCP server (<paramref name="dhcp"/>) or not.</summary>
    public static bool Refuses(ReadOnlySpan<byte> frame, bool router, bool dhcp)
    {
        if (router && dhcp) return false;
        int at = L3Frames.PastTags(frame, out ushort type);
        if (at < 0) return false;
        return type switch
        {
            L3Frames.EtherTypeIpv4 => RefusesIpv4(frame[at..], router, dhcp),
            L3Frames.EtherTypeIpv6 => RefusesIpv6(frame[at..], router, dhcp),
            _ => false,
        };
    }

    private static bool RefusesIpv4(ReadOnlySpan<byte> ip, bool router, bool dhcp)
    {
        if (ip.Length < 20 || ip[0] >> 4 != 4) return false;
        int header = (ip[0] & 0x0f) * 4, end = Math.Min(ip.Length, BinaryPrimitives.ReadUInt16BigEndian(ip[2..]));
        if (header < 20 || end < header) return false; // no host takes it
        if (!L3Frames.Ipv4UpperLayer(ip, end, out byte next, out int at, out bool fragment)) return fragment;
        return RefusesUpperLayer(false, next, at < end ? ip[at..end] : default, fragment, router, dhcp);
    }

    private static bool RefusesIpv6(ReadOnlySpan<byte> ip, bool router, bool dhcp)
    {
        if (ip.Length < 40 || ip[0] >> 4 != 6) return false;
        int end = Math.Min(ip.Length, 40 + BinaryPrimitives.ReadUInt16BigEndian(ip[4..]));
        if (!L3Frames.Ipv6UpperLayer(ip, end, out byte next, out int at, out bool fragment)) return fragment;
        return RefusesUpperLayer(true, next, at < end ? ip[at..end] : default, fragment, router, dhcp);
    }

    /// <summary>The upper-layer message <paramref name="message"/> of protocol <paramref name="next"/> (its bytes in
    /// this packet) of an IPv6 (<paramref name="v6"/>) or IPv4 packet; <paramref name="fragment"/>: the packet is a
    /// first fragment, the rest of it follows.</summary>
    private static bool RefusesUpperLayer(bool v6, byte next, ReadOnlySpan<byte> message, bool fragment, bool router, bool dhcp)
    {
        if (next == (v6 ? L3Frames.IcmpV6 : L3Frames.Icmp))
        {
            if (router) return false;
            if (message.IsEmpty) return fragment;
            return v6 ? message[0] is MldQuery or RouterAdvertisement or Redirect or RouterRenumbering : message[0] is Ipv4Redirect or Ipv4RouterAdvertisement;
        }
        if (!v6 && next == Igmp)
        {
            if (router) return false;
            if (message.IsEmpty) return fragment;
            return message[0] == IgmpQuery;
        }
        if (next != L3Frames.Udp || dhcp) return false;
        if (message.Length < 8) return fragment;
        int source = BinaryPrimitives.ReadUInt16BigEndian(message), destination = BinaryPrimitives.ReadUInt16BigEndian(message[2..]);
        return v6
            ? source == DhcpMessages.ServerPortV6 || destination == DhcpMessages.ClientPortV6 || destination == DhcpMessages.ServerPortV6 && (fragment && message.Length < 9 || ServerOrRelayDhcp6(message[8..]))
            : source == DhcpMessages.ServerPortV4 || destination == DhcpMessages.ClientPortV4 || destination == DhcpMessages.ServerPortV4 && (fragment && message.Length < 8 + DhcpMessages.GiaddrOffset + 4 || ServerOrRelayDhcp4(message[8..]));
    }

    /// <summary>A BOOTREPLY, or a message a relay agent forwarded (its giaddr set).</summary>
    private static bool ServerOrRelayDhcp4(ReadOnlySpan<byte> bootp) =>
        bootp.Length >= 1 && bootp[0] == DhcpMessages.BootReply
        || bootp.Length >= DhcpMessages.GiaddrOffset + 4 && BinaryPrimitives.ReadUInt32BigEndian(bootp[DhcpMessages.GiaddrOffset..]) != 0;

    /// <summary>A DHCPv6 message type only a server or a relay agent sends (RFC 8415 §7.3, RFC 5007, RFC 5460, RFC 7341).</summary>
    private static bool ServerOrRelayDhcp6(ReadOnlySpan<byte> message) =>
        message.Length >= 1 && message[0] is 2 or 7 or 10 or 12 or 13 or 15 or 16 or 17 or 21;
}
