using System.Buffers.Binary;
using System.Net;

namespace Appliance.Host.Tests.Board;

/// <summary>Ethernet/IPv4/UDP frames of distinct flows (one source port each), with valid IPv4 and UDP checksums:
/// what a tap or a NIC's RSS hashes to spread frames over a port's RX queues.</summary>
public static class UdpFlowFrame
{
    public static byte[] Build(byte[] dstMac, byte[] srcMac, IPAddress src, IPAddress dst, ushort srcPort, ushort dstPort, int payload = 18)
    {
        var f = new byte[14 + 20 + 8 + payload];
        dstMac.CopyTo(f, 0);
        srcMac.CopyTo(f, 6);
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(12), 0x0800);
        var ip = f.AsSpan(14, 20);
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(20 + 8 + payload));
        ip[8] = 64;
        ip[9] = 17;
        src.GetAddressBytes().CopyTo(ip[12..]);
        dst.GetAddressBytes().CopyTo(ip[16..]);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], Checksum(ip, 0));
        var udp = f.AsSpan(34);
        BinaryPrimitives.WriteUInt16BigEndian(udp, srcPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp[2..], dstPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp[4..], (ushort)(8 + payload));
        for (var i = 0; i < payload; i++) udp[8 + i] = (byte)(srcPort + i);
        // UDP checksum over the pseudo header (addresses, protocol, length) and the datagram.
        uint pseudo = Sum(ip.Slice(12, 8)) + 17u + (uint)(8 + payload);
        var sum = Checksum(udp, pseudo);
        BinaryPrimitives.WriteUInt16BigEndian(udp[6..], sum == 0 ? (ushort)0xffff : sum);
        return f;
    }

    private static uint Sum(ReadOnlySpan<byte> data)
    {
        uint sum = 0;
        for (var i = 0; i + 1 < data.Length; i += 2) sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        if (data.Length % 2 == 1) sum += (uint)data[^1] << 8;
        return sum;
    }

    private static ushort Checksum(ReadOnlySpan<byte> data, uint initial)
    {
        var sum = initial + Sum(data);
        while (sum >> 16 != 0) sum = (sum & 0xffff) + (sum >> 16);
        return (ushort)~sum;
    }
}
