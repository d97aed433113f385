using System.Buffers.Binary;
using Appliance.Bpf.Routing;
using Appliance.Config;

namespace Appliance.Datapath.Forwarding;

/// <summary>How a frame claims an address.</summary>
public enum ClaimKind
{
    /// <summary>A packet's source: the answers go there.</summary>
    Source,
    /// <summary>"I have it, at this link-layer address": ARP's sender, neighbour discovery's source and advertised target,
    /// which receivers enter into their neighbour tables.</summary>
    Neighbour,
}

/// <summary>Who judges (or records) what a frame claims: <see cref="FrameClaims.Read"/> hands it each claim in turn
/// and stops at the first it refuses.</summary>
public interface IClaimJudge
{
    /// <summary>The frame says its sender has <paramref name="address"/> (never the unspecified address); true refuses
    /// the frame.</summary>
    bool Address(IpFamily family, ReadOnlySpan<byte> address, ClaimKind kind);

    /// <summary>The frame names <paramref name="mac"/> as its sender's link-layer address in ARP or neighbour discovery,
    /// or as the client's hardware address of a DHCP client message; true refuses the frame.</summary>
    bool LinkLayer(MacAddress mac);

    /// <summary>The frame is a DHCP client's message, which names the client identities a server leases to
    /// (<see cref="DhcpMessages.ClientIdentities"/>); handed last, once the frame's other claims passed. True refuses
    /// the frame.</summary>
    bool DhcpClient(in DhcpClientMessage message);
}

/// <summary>What an Ethernet frame tells the hosts that receive it about who has an address. Hosts take a sender's
/// word: an ARP packet of any kind (request, reply, gratuitous) updates the receiver's entry for its sender address, a
/// neighbour advertisement its target's, a solicitation its source's, an ICMPv6 redirect its target's (Linux's
/// rt6_do_redirect enters it with the target link-layer address option); and the answers to a packet go to its source.
/// The claims read:
/// <list type="bullet">
/// <item>addresses: an IPv4 or IPv6 packet's source (<see cref="ClaimKind.Source"/>); ARP's sender address, a neighbour
/// discovery message's source and an advertisement's or redirect's target (<see cref="ClaimKind.Neighbour"/>); 0.0.0.0
/// and :: claim nothing (DHCP, ARP probes, duplicate address detection);</item>
/// <item>link-layer addresses: ARP's sender hardware address, neighbour discovery's source / target link-layer
/// address options, and the client hardware address (chaddr) of a DHCPv4 client's message
/// (<see cref="DhcpMessages.IsClientMessageV4"/>; a first fragment that ends before it hides it) and the MAC its client
/// identifier names when it has the hardware form (<see cref="DhcpMessages.ClientIdentifierMac"/>);</item>
/// <item>DHCP client identities: a DHCPv4 or DHCPv6 client's message itself (<see cref="DhcpClientMessage"/>), found
/// with the headers read here once, so its judge reads only DHCP client messages and never a frame's headers
/// again.</item>
/// </list>
/// Read behind any number of VLAN tags: ARP of Ethernet (hardware type 1, or 6 as Linux also takes it) and IPv4, IP
/// headers, and neighbour discovery (ICMPv6 133–137) behind IPv6 extension headers (a hop-by-hop or destination
/// options header does not hide an advertisement from a Linux host). Neighbour discovery in a fragment is refused (it
/// is never fragmented, RFC 6980, and its target could sit in a later fragment), and so is a first fragment whose
/// headers end before its upper-layer header (RFC 7112); a later fragment carries no headers and claims nothing but
/// its source. Nothing allocates. Used by <see cref="AddressGuard"/> (what a tenant may claim) and
/// <see cref="ClaimedAddresses"/> (who on a port's LAN claimed what).</summary>
public static class FrameClaims
{
    private const int ArpLength = 28;
    private const int IcmpV6 = 58, RouterSolicitation = 133, RouterAdvertisement = 134, NeighbourAdvertisement = 136, Redirect = 137;
    private const int SourceLinkLayer = 1, TargetLinkLayer = 2;

    /// <summary>Hands <paramref name="judge"/> each claim of <paramref name="frame"/> until it refuses one; true when it
    /// did or when the frame hides what it claims (above). A frame that is none of IPv4, IPv6 and ARP, or too short to
    /// be one, claims nothing.</summary>
    public static bool Read<TJudge>(ReadOnlySpan<byte> frame, ref TJudge judge) where TJudge : struct, IClaimJudge
    {
        int at = L3Frames.PastTags(frame, out ushort type);
        if (at < 0) return false;
        var payload = frame[at..];
        return type switch
        {
            L3Frames.EtherTypeIpv4 => Ipv4(payload, ref judge),
            L3Frames.EtherTypeArp => Arp(payload, ref judge),
            L3Frames.EtherTypeIpv6 => Ipv6(payload, ref judge),
            _ => false,
        };
    }

    private static bool Ipv4<TJudge>(ReadOnlySpan<byte> ip, ref TJudge judge) where TJudge : struct, IClaimJudge
    {
        if (ip.Length < 20 || ip[0] >> 4 != 4) return false;
        var source = ip.Slice(12, 4);
        if (BinaryPrimitives.ReadUInt32BigEndian(source) != 0 && judge.Address(IpFamily.Inet, source, ClaimKind.Source)) return true;
        // A DHCP client's message names the client's MAC: a server leases to it (an address of the pool for every
        // MAC named: the pool runs dry), and a release or decline naming it gives that client's lease up. A client
        // identifier of the hardware form names a MAC the same way, and the server keys the lease on it.
        if (!DhcpMessages.IsClientMessageV4(ip, out var dhcp, out var client, out bool hidden)) return hidden;
        if (judge.LinkLayer(client)) return true;
        if (DhcpMessages.ClientIdentifierMac(dhcp, out var named) && named != client && judge.LinkLayer(named)) return true;
        return judge.DhcpClient(dhcp);
    }

    private static bool Arp<TJudge>(ReadOnlySpan<byte> arp, ref TJudge judge) where TJudge : struct, IClaimJudge
    {
        if (arp.Length < ArpLength || BinaryPrimitives.ReadUInt16BigEndian(arp) is not (1 or 6)
            || BinaryPrimitives.ReadUInt16BigEndian(arp[2..]) != L3Frames.EtherTypeIpv4 || arp[4] != 6 || arp[5] != 4)
            return false; // not Ethernet/IPv4 ARP: no host takes it as such
        if (judge.LinkLayer(MacAddress.Read(arp[8..]))) return true;
        var sender = arp.Slice(14, 4);
        // Linux's arp_process takes only requests and replies into its table; other operations are judged, not taken
        // as a claim of the address.
        var kind = BinaryPrimitives.ReadUInt16BigEndian(arp[6..]) is 1 or 2 ? ClaimKind.Neighbour : ClaimKind.Source;
        return BinaryPrimitives.ReadUInt32BigEndian(sender) != 0 && judge.Address(IpFamily.Inet, sender, kind);
    }

    private static bool Ipv6<TJudge>(ReadOnlySpan<byte> ip, ref TJudge judge) where TJudge : struct, IClaimJudge
    {
        if (ip.Length < 40 || ip[0] >> 4 != 6) return false;
        var source = ip.Slice(8, 16);
        bool specified = source.IndexOfAnyExcept((byte)0) >= 0;
        if (specified && judge.Address(IpFamily.Inet6, source, ClaimKind.Source)) return true;
        int end = Math.Min(ip.Length, 40 + BinaryPrimitives.ReadUInt16BigEndian(ip[4..]));
        // A first fragment whose headers do not reach the upper-layer header hides what it is (RFC 7112 lets it be
        // dropped); a later fragment carries no headers.
        if (!L3Frames.Ipv6UpperLayer(ip, end, out byte next, out int at, out bool fragment)) return fragment;
        if (next == L3Frames.Udp) return DhcpMessages.IsClientMessageV6(ip, at, end, fragment, out var dhcp) && judge.DhcpClient(dhcp);
        if (next != IcmpV6) return false;
        if (at + 8 > end) return fragment;
        var message = ip[at..end];
        int kind = message[0];
        if (kind is < RouterSolicitation or > Redirect) return false;
        // Neighbour discovery is never fragmented (RFC 6980); a fragment's target could sit in a later fragment.
        if (fragment) return true;
        // A host takes neighbour discovery only with hop limit 255 and code 0 (RFC 4861 §6.1, 7.1.1; Linux's ndisc_rcv):
        // anything else is judged alike but not taken as a claim.
        var claim = ip[7] == 255 && message[1] == 0 ? ClaimKind.Neighbour : ClaimKind.Source;
        if (specified && claim == ClaimKind.Neighbour && judge.Address(IpFamily.Inet6, source, claim)) return true;
        if (kind is NeighbourAdvertisement or Redirect && message.Length >= 24
            && message.Slice(8, 16).IndexOfAnyExcept((byte)0) >= 0 && judge.Address(IpFamily.Inet6, message.Slice(8, 16), claim))
            return true;
        // Options follow the fixed part: RS 8 bytes, RA 16, NS and NA 24, redirect 40.
        int option = kind switch { RouterSolicitation => 8, RouterAdvertisement => 16, Redirect => 40, _ => 24 };
        while (option + 2 <= message.Length)
        {
            int length = message[option + 1] * 8;
            if (length == 0) return false; // a malformed option: receivers drop the whole message (RFC 4861 §4.6)
            if (message[option] is SourceLinkLayer or TargetLinkLayer && length >= 8 && option + 8 <= message.Length
                && judge.LinkLayer(MacAddress.Read(message[(option + 2)..])))
                return true;
            option += length;
        }
        return false;
    }
}
