using System.Buffers.Binary;

namespace Appliance.Bpf.Oracle;

/// <summary>Builds Ethernet frames with correct IPv4 header and TCP/UDP checksums, for kernel and
/// differential tests.</summary>
public static class PacketBuilder
{
    public const ushort EthIp = 0x0800, EthIpv6 = 0x86dd, EthArp = 0x0806, EthVlan = 0x8100;
    public const byte Tcp = 6, Udp = 17, Icmp = 1;

    public static readonly byte[] DstMac = [0x02, 0, 0, 0, 0, 0x01], SrcMac = [0x02, 0, 0, 0, 0, 0x02];

    public static byte[] Ipv4(byte proto, byte[] src, byte[] dst, ushort sport, ushort dport, int payload,
        ushort? vlan = null, int ihl = 5, ushort fragment = 0)
    {
        var l4 = L4(proto, sport, dport, payload);
        var ip = new byte[ihl * 4 + l4.Length];
        ip[0] = (byte)(0x40 | (ihl & 0xf));
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(2), (ushort)ip.Length);
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(4), 0x1234);
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(6), fragment);
        ip[8] = 64;
        ip[9] = proto;
        src.CopyTo(ip, 12);
        dst.CopyTo(ip, 16);
        int hlen = Math.Max(ihl, 5) * 4;
        if (hlen <= ip.Length) BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(10), Checksum(ip.AsSpan(0, hlen), 0));
        l4.CopyTo(ip, ihl * 4);
        if (proto is Tcp or Udp)
        {
            uint pseudo = Sum(src) + Sum(dst) + proto + (uint)l4.Length;
            ushort c = Checksum(l4, pseudo);
            if (proto == Udp && c == 0) c = 0xffff;
            BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(ihl * 4 + (proto == Tcp ? 16 : 6)), c);
        }
        return Ethernet(EthIp, ip, vlan);
    }

    public static byte[] Ipv6(byte proto, byte[] src, byte[] dst, ushort sport, ushort dport, int payload, ushort? vlan = null)
    {
        var l4 = L4(proto, sport, dport, payload);
        var ip = new byte[40 + l4.Length];
        ip[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(4), (ushort)l4.Length);
        ip[6] = proto;
        ip[7] = 64;
        src.CopyTo(ip, 8);
        dst.CopyTo(ip, 24);
        if (proto is Tcp or Udp)
        {
            uint pseudo = Sum(src) + Sum(dst) + proto + (uint)l4.Length;
            ushort c = Checksum(l4, pseudo);
            if (proto == Udp && c == 0) c = 0xffff;
            BinaryPrimitives.WriteUInt16BigEndian(l4.AsSpan(proto == Tcp ? 16 : 6), c);
        }
        l4.CopyTo(ip, 40);
        return Ethernet(EthIpv6, ip, vlan);
    }

    public static byte[] Arp()
    {
        var arp = new byte[28];
        BinaryPrimitives.WriteUInt16BigEndian(arp, 1);
        BinaryPrimitives.WriteUInt16BigEndian(arp.AsSpan(2), EthIp);
        arp[4] = 6; arp[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(arp.AsSpan(6), 1);
        return Ethernet(EthArp, arp, null);
    }

    public static byte[] Ethernet(ushort type, byte[] payload, ushort? vlan)
    {
        int tag = vlan is null ? 0 : 4;
        var frame = new byte[14 + tag + payload.Length];
        DstMac.CopyTo(frame, 0);
        SrcMac.CopyTo(frame, 6);
        if (vlan is { } id)
        {
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), EthVlan);
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(14), id);
        }
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12 + tag), type);
        payload.CopyTo(frame, 14 + tag);
        return frame;
    }

    /// <summary>The Internet checksum (RFC 1071) of <paramref name="data"/> plus a starting sum.</summary>
    public static ushort Checksum(ReadOnlySpan<byte> data, uint initial)
    {
        ulong sum = initial + Sum(data);
        while (sum >> 16 != 0) sum = (sum & 0xffff) + (sum >> 16);
        return (ushort)~sum;
    }

    public static uint Sum(ReadOnlySpan<byte> data)
    {
        uint sum = 0;
        for (int i = 0; i + 1 < data.Length; i += 2) sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        if ((data.Length & 1) != 0) sum += (uint)data[^1] << 8;
        return sum;
    }

    private static byte[] L4(byte proto, ushort sport, ushort dport, int payload)
    {
        int header = proto switch { Tcp => 20, Udp => 8, _ => 8 };
        var l4 = new byte[header + payload];
        for (int i = header; i < l4.Length; i++) l4[i] = (byte)(i * 7);
        BinaryPrimitives.WriteUInt16BigEndian(l4, sport);
        BinaryPrimitives.WriteUInt16BigEndian(l4.AsSpan(2), dport);
        if (proto == Tcp) l4[12] = 0x50;
        if (proto == Udp) BinaryPrimitives.WriteUInt16BigEndian(l4.AsSpan(4), (ushort)l4.Length);
        if (proto == Icmp) l4[0] = 8;
        return l4;
    }
}
