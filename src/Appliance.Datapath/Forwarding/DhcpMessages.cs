using System.Buffers.Binary;
using System.IO.Hashing;
using Appliance.Config;

namespace Appliance.Datapath.Forwarding;

/// <summary>What the appliance reads of DHCP on the wire: the ports (shared with <see cref="ServiceGuard"/>, which keeps
/// server messages from tenants that do not serve DHCP), a client's message (<see cref="DhcpClientMessage"/>: what
/// MAC and what identities it names, <see cref="FrameClaims"/> and <see cref="DhcpClientIds"/>) and the leases a
/// server's answer makes (DHCP snooping's binding, <see cref="ClaimedAddresses.HeardFromWire"/>). Reads only within the
/// frame; never throws; nothing allocates.</summary>
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
    /// client's lease (RFC 2131 §4.4.4, §4.4.6). <paramref name="message"/>: the message, hidden when the packet is a
    /// first fragment; <paramref name="hidden"/> (and false): a first fragment of a message to port 67 that ends before
    /// chaddr (the rest of the message follows in later fragments).</summary>
    public static bool IsClientMessageV4(ReadOnlySpan<byte> ip, out DhcpClientMessage message, out MacAddress client, out bool hidden)
    {
        message = default;
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
        message = new DhcpClientMessage(bootp, v6: false, hidden: fragment);
        client = MacAddress.Read(bootp[ChaddrOffset..]);
        return true;
    }

    /// <summary>Whether the UDP datagram at <paramref name="u"/> of the IPv6 packet <paramref name="ip"/> (its bytes up to
    /// <paramref name="end"/>; <paramref name="fragment"/>: a first fragment) is a DHCPv6 client's message: one of the
    /// client's message types (<see cref="ClientTypeV6"/>) to UDP port 547. A first fragment that ends before the ports
    /// or the type may be one, and hides what it names (<paramref name="message"/> is hidden).</summary>
    public static bool IsClientMessageV6(ReadOnlySpan<byte> ip, int u, int end, bool fragment, out DhcpClientMessage message)
    {
        message = new DhcpClientMessage(default, v6: true, hidden: true);
        if (u + 8 > end) return fragment;
        if (BinaryPrimitives.ReadUInt16BigEndian(ip[(u + 2)..]) != ServerPortV6) return false;
        var body = ip[(u + 8)..end];
        if (body.IsEmpty) return fragment;
        if (!ClientTypeV6(body[0])) return false;
        message = new DhcpClientMessage(body, v6: true, hidden: fragment);
        return true;
    }

    /// <summary>Whether the DHCPv4 client's message <paramref name="message"/> (<see cref="IsClientMessageV4"/>) names a
    /// client by a client identifier of the hardware form (option 61 of type 1 and a 6-byte MAC, RFC 2132 §9.14: how
    /// udhcpc, ISC dhclient and Windows name themselves), and that <paramref name="mac"/>. A server keys the lease on the
    /// identifier, whatever chaddr says: a request naming another client's takes that client's lease over, and a
    /// release or decline naming it gives that lease up. Every instance of option 61 counts, concatenated in order (RFC
    /// 3396), also in the file and sname fields an option overload (52) lends to options.</summary>
    public static bool ClientIdentifierMac(in DhcpClientMessage message, out MacAddress mac)
    {
        mac = default;
        if (message.V6 || message.Hidden) return false;
        Span<byte> id = stackalloc byte[7];
        if (!ClientIdentifier(message.Message, 0, id, out int length, out _)) return false;
        if (length != 7 || id[0] != 1) return false;
        mac = MacAddress.Read(id[1..]);
        return true;
    }

    /// <summary>At most this many distinct client identities one message may name (<see cref="ClientIdentities"/>): a
    /// DHCPv6 client asks for one IA_NA, maybe an IA_TA and an IA_PD.</summary>
    public const int MaxIdentitiesPerMessage = 8;

    /// <summary>The DHCPv6 message types a client sends to a server (RFC 8415 §7.3): SOLICIT 1, REQUEST 3, CONFIRM 4,
    /// RENEW 5, REBIND 6, RELEASE 8, DECLINE 9, INFORMATION-REQUEST 11.</summary>
    private static bool ClientTypeV6(byte type) => type is 1 or 3 or 4 or 5 or 6 or 8 or 9 or 11;

    private const int ClientIdOption = 61, OverloadOption = 52, ClientIdV6 = 1, IaPd = 25;

    /// <summary>The client identities the DHCP client's message <paramref name="message"/> (found by
    /// <see cref="FrameClaims"/>) names, as a server that keys its leases on them reads them, hashed with
    /// <paramref name="seed"/> into <paramref name="identities"/> (distinct, never 0):
    /// <list type="bullet">
    /// <item>DHCPv4 (<see cref="IsClientMessageV4"/>): one, the client identifier (option 61, RFC 2132 §9.14; every
    /// instance in order, as RFC 3396 concatenates them, also those in the file and sname fields an option overload (52)
    /// lends to options), else the hardware address (htype, hlen and chaddr's first hlen bytes, at most 16): dnsmasq,
    /// ISC dhcpd and Kea key a lease on the identifier when there is one, on chaddr when not;</item>
    /// <item>DHCPv6 (<see cref="IsClientMessageV6"/>): one per IA_NA, IA_TA and IA_PD it holds (RFC 8415 §21.4–21.6,
    /// §21.21), the client's DUID (its client identifier options, in order) with the IA's type and IAID: a server
    /// leases per IA, so one DUID with ever new IAIDs would lease the pool dry as well. A message with no IA
    /// (INFORMATION-REQUEST) leases nothing and names none.</item>
    /// </list>
    /// Returns how many; -1 when the message hides what it names (a first fragment: its options follow in later
    /// fragments) or names more than <paramref name="identities"/> holds. Nothing allocates; the work is bounded by the
    /// message's length.</summary>
    public static int ClientIdentities(in DhcpClientMessage message, ulong seed, Span<ulong> identities)
    {
        if (message.Hidden || identities.IsEmpty) return -1;
        if (!message.V6)
        {
            identities[0] = ClientIdV4(message.Message, seed);
            return 1;
        }
        var body = message.Message;
        ulong duid = seed;
        int count = 0;
        // Two passes: the DUID first (the client identifier may follow the IAs), then the IAs.
        for (int pass = 0; pass < 2; pass++)
            for (var options = body.Length >= 4 ? body[4..] : default; options.Length >= 4;)
            {
                int code = BinaryPrimitives.ReadUInt16BigEndian(options), length = BinaryPrimitives.ReadUInt16BigEndian(options[2..]);
                if (4 + length > options.Length) break; // a server drops it (or reads what went before, as here)
                var value = options.Slice(4, length);
                if (pass == 0 && code == ClientIdV6) duid = Mix(duid, XxHash3.HashToUInt64(value, (long)seed), seed);
                else if (pass == 1 && code is IaNa or IaTa or IaPd && length >= 4
                         && !Add(identities, ref count, Mix(duid, (ulong)code << 32 | BinaryPrimitives.ReadUInt32BigEndian(value), seed)))
                    return -1;
                options = options[(4 + length)..];
            }
        return count;
    }

    /// <summary>A DHCPv4 client's identity (<see cref="ClientIdentities"/>): its client identifier, else its hardware
    /// address.</summary>
    private static ulong ClientIdV4(ReadOnlySpan<byte> bootp, ulong seed)
    {
        if (ClientIdentifier(bootp, seed, default, out _, out ulong id)) return NonZero(id);
        int hlen = Math.Min(bootp[2], (byte)16);
        var chaddr = bootp[ChaddrOffset..];
        hlen = Math.Min(hlen, chaddr.Length);
        // The hardware address: htype, hlen and the address, apart from any client identifier (another seed).
        ulong hardware = XxHash3.HashToUInt64(chaddr[..hlen], (long)~seed);
        return NonZero(Mix(hardware, (ulong)bootp[1] << 8 | bootp[2], ~seed));
    }

    /// <summary>The client identifier of the DHCPv4 message <paramref name="bootp"/> as a server reads it: every option
    /// 61 in order, concatenated (RFC 3396), in the options field, then the file and sname fields when an option
    /// overload (52) lends them. False when it names none; else its hash (<paramref name="seed"/>, instance by
    /// instance) and its first bytes in <paramref name="head"/> (<paramref name="length"/> counts them all).</summary>
    private static bool ClientIdentifier(ReadOnlySpan<byte> bootp, ulong seed, Span<byte> head, out int length, out ulong hash)
    {
        var id = new ClientIdReader(seed, head);
        if (bootp.Length >= 240 && BinaryPrimitives.ReadUInt32BigEndian(bootp[236..]) == 0x6382_5363)
        {
            int overload = id.Read(bootp[240..]);
            if ((overload & 1) != 0) id.Read(bootp[108..236]);
            if ((overload & 2) != 0) id.Read(bootp[44..108]);
        }
        length = id.Length;
        hash = id.Hash;
        return id.Named;
    }

    /// <summary>What <see cref="ClientIdentifier"/> gathers from the option fields it reads.</summary>
    private ref struct ClientIdReader(ulong seed, Span<byte> head)
    {
        private readonly Span<byte> _head = head;
        private readonly ulong _seed = seed;
        public ulong Hash = seed;
        public int Length;
        public bool Named;

        /// <summary>Takes each client identifier option of <paramref name="options"/>; returns an option overload's value (0 without one).</summary>
        public int Read(ReadOnlySpan<byte> options)
        {
            int overload = 0;
            for (int o = 0; NextOption(options, ref o, out byte code, out var body);)
                if (code == ClientIdOption)
                {
                    Hash = Mix(Hash, XxHash3.HashToUInt64(body, (long)_seed), _seed);
                    if (Length < _head.Length) body[..Math.Min(body.Length, _head.Length - Length)].CopyTo(_head[Length..]);
                    Length += body.Length;
                    Named = true;
                }
                else if (code == OverloadOption && body.Length == 1) overload = body[0];
            return overload;
        }
    }

    /// <summary>The DHCPv4 option at <paramref name="o"/> in <paramref name="options"/> (pad options passed over): its
    /// <paramref name="code"/> and <paramref name="value"/>, <paramref name="o"/> moved past it. False at the end option,
    /// the end of the field, or an option that runs past it (a server reads no further either).</summary>
    private static bool NextOption(ReadOnlySpan<byte> options, ref int o, out byte code, out ReadOnlySpan<byte> value)
    {
        value = default;
        code = 255;
        while (o < options.Length && options[o] == 0) o++;
        if (o + 2 > options.Length || options[o] == 255) return false;
        int length = options[o + 1];
        if (o + 2 + length > options.Length) return false;
        code = options[o];
        value = options.Slice(o + 2, length);
        o += 2 + length;
        return true;
    }

    private static bool Add(Span<ulong> identities, ref int count, ulong id)
    {
        id = NonZero(id);
        if (identities[..count].Contains(id)) return true;
        if (count == identities.Length) return false;
        identities[count++] = id;
        return true;
    }

    private static ulong Mix(ulong a, ulong b, ulong seed)
    {
        Span<byte> both = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(both, a);
        BinaryPrimitives.WriteUInt64LittleEndian(both[8..], b);
        return XxHash3.HashToUInt64(both, (long)seed);
    }

    private static ulong NonZero(ulong id) => id == 0 ? 1 : id;

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
        for (int o = 0; NextOption(bootp[240..], ref o, out byte code, out var value);)
            if (code == MessageTypeOption && value.Length == 1)
            {
                if (value[0] != Ack || BinaryPrimitives.ReadUInt32BigEndian(bootp[16..]) == 0) return false;
                client = MacAddress.Read(bootp[28..]);
                leased = bootp.Slice(16, 4);
                return true;
            }
        return false;
    }
}
