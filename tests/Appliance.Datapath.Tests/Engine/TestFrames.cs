using System.Buffers.Binary;
using Appliance.Bpf.Helpers;

namespace Appliance.Datapath.Tests.Engine;

/// <summary>Test frames: Ethernet with a local experimental EtherType (0x88B5, nothing in the kernel answers it),
/// a sequence number and seeded random bytes, so every frame is distinct and checkable.</summary>
public static class TestFrames
{
    public const ushort EtherType = 0x88B5;

    public static byte[] Build(byte[] dst, byte[] src, int size, int sequence)
    {
        var f = new byte[size];
        new Random(sequence * 7919 + size).NextBytes(f);
        dst.CopyTo(f, 0);
        src.CopyTo(f, 6);
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(12), EtherType);
        BinaryPrimitives.WriteInt32BigEndian(f.AsSpan(14), sequence);
        return f;
    }

    /// <summary><paramref name="frame"/> with <paramref name="tags"/> (TPID, TCI), outermost first, after its MAC addresses.</summary>
    public static byte[] Tagged(byte[] frame, params (ushort Tpid, ushort Tci)[] tags)
    {
        var f = new byte[frame.Length + 4 * tags.Length];
        frame.AsSpan(0, 12).CopyTo(f);
        for (int t = 0; t < tags.Length; t++) BinaryPrimitives.WriteUInt32BigEndian(f.AsSpan(12 + 4 * t), (uint)tags[t].Tpid << 16 | tags[t].Tci);
        frame.AsSpan(12).CopyTo(f.AsSpan(12 + 4 * tags.Length));
        return f;
    }

    /// <summary>A broadcast ARP request (who-has <paramref name="target"/>, tell <paramref name="sender"/>) from <paramref name="mac"/>.</summary>
    public static byte[] ArpRequest(byte[] mac, byte[] sender, byte[] target)
    {
        var f = new byte[42];
        f.AsSpan(0, 6).Fill(0xff);
        mac.CopyTo(f, 6);
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(12), 0x0806);
        BinaryPrimitives.WriteUInt64BigEndian(f.AsSpan(14), 0x0001_0800_0604_0001UL); // Ethernet, IPv4, 6, 4, request
        mac.CopyTo(f, 22);
        sender.CopyTo(f, 28);
        target.CopyTo(f, 38);
        return f;
    }

    /// <summary>Ethernet + IPv4 + UDP (source port 10000 + flow, destination 7777), payload flow and sequence.</summary>
    public static void Udp(byte[] f, byte[] dst, byte[] src, int flow, int seq)
    {
        Array.Clear(f);
        WriteIp(f, dst, src, [198, 18, 9, 1], [198, 18, 9, 2], 17, f.Length - 34);
        var udp = f.AsSpan(34);
        BinaryPrimitives.WriteUInt16BigEndian(udp, (ushort)(10000 + flow));
        BinaryPrimitives.WriteUInt16BigEndian(udp[2..], 7777);
        BinaryPrimitives.WriteUInt16BigEndian(udp[4..], (ushort)(f.Length - 34));
        BinaryPrimitives.WriteInt32BigEndian(f.AsSpan(42), flow);
        BinaryPrimitives.WriteInt32BigEndian(f.AsSpan(46), seq);
    }

    /// <summary>Ethernet (802.1Q-tagged when <paramref name="tag"/> is set) + an IPv4 or IPv6 header (the family by the
    /// addresses' length; lengths and the IPv4 header checksum filled in) + <paramref name="payload"/>.</summary>
    public static byte[] Ip(byte[] dstMac, byte[] srcMac, byte[] src, byte[] dst, byte protocol, ReadOnlySpan<byte> payload,
        ushort tag = 0, ushort id = 0)
    {
        int header = (tag != 0 ? 18 : 14) + (src.Length == 4 ? 20 : 40);
        var f = new byte[header + payload.Length];
        WriteIp(f, dstMac, srcMac, src, dst, protocol, payload.Length, tag, id);
        payload.CopyTo(f.AsSpan(header));
        return f;
    }

    /// <summary>An ICMP message: type, code, the 32-bit rest of the header, <paramref name="body"/>; the ICMPv4 checksum
    /// filled in when <paramref name="checksum"/> (ICMPv6's covers a pseudo-header: left zero).</summary>
    public static byte[] Icmp(byte type, byte code, uint rest, ReadOnlySpan<byte> body, bool checksum = true)
    {
        var m = new byte[8 + body.Length];
        m[0] = type;
        m[1] = code;
        BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(4), rest);
        body.CopyTo(m.AsSpan(8));
        if (checksum) BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(2), InternetChecksum.Fold(InternetChecksum.Partial(m, 0)));
        return m;
    }

    /// <summary>Writes the Ethernet and IP headers of <see cref="Ip"/> into <paramref name="f"/> (TTL / hop limit 64)
    /// for a payload of <paramref name="payloadLength"/> bytes.</summary>
    private static void WriteIp(Span<byte> f, byte[] dstMac, byte[] srcMac, byte[] src, byte[] dst, byte protocol, int payloadLength,
        ushort tag = 0, ushort id = 0)
    {
        bool v4 = src.Length == 4;
        int l2 = tag != 0 ? 18 : 14;
        dstMac.CopyTo(f);
        srcMac.CopyTo(f[6..]);
        if (tag != 0) BinaryPrimitives.WriteUInt32BigEndian(f[12..], 0x8100_0000u | tag);
        BinaryPrimitives.WriteUInt16BigEndian(f[(l2 - 2)..], v4 ? (ushort)0x0800 : (ushort)0x86dd);
        var ip = f[l2..];
        if (v4)
        {
            ip[0] = 0x45;
            BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(20 + payloadLength));
            BinaryPrimitives.WriteUInt16BigEndian(ip[4..], id);
            ip[8] = 64;
            ip[9] = protocol;
            src.CopyTo(ip[12..]);
            dst.CopyTo(ip[16..]);
            BinaryPrimitives.WriteUInt16LittleEndian(ip[10..], InternetChecksum.Fold(InternetChecksum.Partial(ip[..20], 0)));
        }
        else
        {
            ip[0] = 0x60;
            BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)payloadLength);
            ip[6] = protocol;
            ip[7] = 64;
            src.CopyTo(ip[8..]);
            dst.CopyTo(ip[24..]);
        }
    }
}
