using System.Buffers.Binary;
using Appliance.Config;

namespace Appliance.Datapath.Forwarding;

/// <summary>What the appliance reads of DHCP on the wire: the ports (shared with <see cref="ServiceGuard"/>, which keeps
/// server messages from tenants that do not serve DHCP) and the leases a server's answer makes (DHCP snooping's
/// binding, <see cref="ClaimedAddresses.HeardFromWire"/>). Reads only within the frame; never throws; nothing
/// allocates.</summary>
public static class DhcpMessages
{
    /// <summary>The UDP ports: a DHCPv4 server's (and relay agent's) and client's (RFC 2131 §4.1), a DHCPv6 server's
    /// (and relay agent's) and client's (RFC 8415 §7.2).</summary>
    public const int ServerPortV4 = 67, ClientPortV4 = 68, ServerPortV6 = 547, ClientPortV6 = 546;

    /// <summary>BOOTP's ops of a client's request and a server's answer, and where a relay agent's address (giaddr) and
    /// the client's hardware address (chaddr) sit in a BOOTP message.</summary>
    public const int BootRequest = 1, BootReply = 2, GiaddrOffset = 24, ChaddrOffset = 28;

    private const int MessageTypeOption = 53, Ack = 5, ReplyV6 = 7, IaNa = 3, IaTa = 4, IaAddress = 5;

    /// <summary>The addresses a DHCPv6 REPLY (UDP 547 → 546, message type 7) leases, with a valid lifetime above 0, in
    /// its IA_NA and IA_TA options' IA Address options (RFC 8415 §21.4–21.6), copied 16 bytes each into
    /// <paramref name="leases"/> (as many as fit); the client is the frame's Ethernet destination (the REPLY goes to the
    /// client's link-local address). Returns how many.</summary>
    public static int V6Leases(ReadOnlySpan<byte> frame, Span<byte> leases, out MacAddress client)
    {
        client = frame.Length >= 6 ? MacAddress.Read(frame) : default;
        int at = L3Frames.PastTags(frame, out ushort type);
        if (at < 0 || type != L3Frames.EtherTypeIpv6) return 0;
        var ip = frame[at..];
        if (ip.Length < 40 || ip[0] >> 4 != 6) return 0;
        int end = 40 + BinaryPrimitives.ReadUInt16BigEndian(ip[4..]);
        if (end > ip.Length) return 0; // cut short: no host takes it
        if (!L3Frames.Ipv6UpperLayer(ip, end, out byte next, out int u, out bool fragment) || fragment || next != L3Frames.Udp || end - u < 8 + 4)
            return 0;
        var udp = ip[u..end];
        if (BinaryPrimitives.ReadUInt16BigEndian(udp) != ServerPortV6 || BinaryPrimitives.ReadUInt16BigEndian(udp[2..]) != ClientPortV6)
            return 0;
        var message = udp[8..];
        if (message[0] != ReplyV6) return 0;
        int count = 0;
        for (var options = message[4..]; options.Length >= 4;)
        {
            int code = BinaryPrimitives.ReadUInt16BigEndian(options), length = BinaryPrimitives.ReadUInt16BigEndian(options[2..]);
            if (4 + length > options.Length) break;
            var body = options.Slice(4, length);
            int first = code == IaNa ? 12 : code == IaTa ? 4 : -1; // IAID, T1, T2 / IAID
            if (first >= 0 && body.Length >= first)
                for (var sub = body[first..]; sub.Length >= 4;)
                {
                    int subCode = BinaryPrimitives.ReadUInt16BigEndian(sub), subLength = BinaryPrimitives.ReadUInt16BigEndian(sub[2..]);
                    if (4 + subLength > sub.Length) break;
                    if (subCode == IaAddress && subLength >= 24 && BinaryPrimitives.ReadUInt32BigEndian(sub[(4 + 20)..]) != 0
                        && (count + 1) * 16 <= leases.Length)
                        sub.Slice(4, 16).CopyTo(leases[(count++ * 16)..]);
                    sub = sub[(4 + subLength)..];
                }
            options = options[(4 + length)..];
        }
        return count;
    }

    /// <summary>Whether the IPv4 packet <paramref name="ip"/> (at least its 20-byte header) is a DHCPv4 client's message:
    /// a BOOTREQUEST to UDP port 67 that no relay agent forwarded (giaddr 0.0.0.0), and the client hardware address it
    /// names (the first 6 bytes of chaddr, whatever its htype and hlen say: a server that keys leases on chaddr reads
    /// them so). A server leases an address to that client, and a DHCPRELEASE or DHCPDECLINE naming it gives up that
    /// client's lease (RFC 2131 §4.4.4, §4.4.6). <paramref name="hidden"/>: a first fragment of a message to port 67
    /// that ends before chaddr (the rest of the message follows in later fragments).</summary>
    public static bool IsClientRequest(ReadOnlySpan<byte> ip, out MacAddress client, out bool hidden)
    {
        client = default;
        hidden = false;
        int header = (ip[0] & 0x0f) * 4, end = Math.Min(ip.Length, BinaryPrimitives.ReadUInt16BigEndian(ip[2..]));
        if (header < 20 || end < header || !L3Frames.Ipv4UpperLayer(ip, end, out byte next, out int u, out bool fragment)
            || next != L3Frames.Udp || u + 8 > end || BinaryPrimitives.ReadUInt16BigEndian(ip[(u + 2)..]) != ServerPortV4)
            return false;
        var bootp = ip[(u + 8)..end];
        if (bootp.Length < ChaddrOffset + 6)
        {
            hidden = fragment;
            return false;
        }
        if (bootp[0] != BootRequest || BinaryPrimitives.ReadUInt32BigEndian(bootp[GiaddrOffset..]) != 0) return false;
        client = MacAddress.Read(bootp[ChaddrOffset..]);
        return true;
    }

    /// <summary>Whether <paramref name="frame"/> is a DHCPv4 DHCPACK (a BOOTREPLY from UDP port 67 to 68 whose message
    /// type option is 5): the client's hardware address and the address leased to it (yiaddr, RFC 2131 §2, §4.3.1).</summary>
    public static bool IsAck(ReadOnlySpan<byte> frame, out MacAddress client, out ReadOnlySpan<byte> leased)
    {
        client = default;
        leased = default;
        int at = L3Frames.PastTags(frame, out ushort type);
        if (at < 0 || type != L3Frames.EtherTypeIpv4) return false;
        var ip = frame[at..];
        if (ip.Length < 20 || ip[0] >> 4 != 4 || (ip[0] & 0x0f) < 5) return false;
        int end = BinaryPrimitives.ReadUInt16BigEndian(ip[2..]);
        if (end > ip.Length) return false; // cut short: no host takes it
        if (end < (ip[0] & 0x0f) * 4 || !L3Frames.Ipv4UpperLayer(ip, end, out byte next, out int u, out bool fragment)
            || fragment || next != L3Frames.Udp || end - u < 8 + 240)
            return false;
        var udp = ip[u..end];
        if (BinaryPrimitives.ReadUInt16BigEndian(udp) != ServerPortV4 || BinaryPrimitives.ReadUInt16BigEndian(udp[2..]) != ClientPortV4) return false;
        var bootp = udp[8..];
        if (bootp[0] != BootReply || bootp[1] != 1 || bootp[2] != 6 || BinaryPrimitives.ReadUInt32BigEndian(bootp[236..]) != 0x6382_5363) return false;
        for (int o = 240; o < bootp.Length;)
        {
            byte code = bootp[o];
            if (code == 255) break;
            if (code == 0)
            {
                o++;
                continue;
            }
            if (o + 2 > bootp.Length) break;
            int length = bootp[o + 1];
            if (o + 2 + length > bootp.Length) break;
            if (code == MessageTypeOption && length == 1)
            {
                if (bootp[o + 2] != Ack || BinaryPrimitives.ReadUInt32BigEndian(bootp[16..]) == 0) return false;
                client = MacAddress.Read(bootp[28..]);
                leased = bootp.Slice(16, 4);
                return true;
            }
            o += 2 + length;
        }
        return false;
    }
}
