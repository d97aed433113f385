using System.Buffers.Binary;

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

    /// <summary>Ethernet + IPv4 + UDP (source port 10000 + flow, destination 7777), payload flow and sequence.</summary>
    public static void Udp(byte[] f, byte[] dst, byte[] src, int flow, int seq)
    {
        Array.Clear(f);
        dst.CopyTo(f, 0);
        src.CopyTo(f, 6);
        f[12] = 0x08;
        var ip = f.AsSpan(14);
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(f.Length - 14));
        ip[8] = 64;
        ip[9] = 17;
        ip[12] = 198; ip[13] = 18; ip[14] = 9; ip[15] = 1;
        ip[16] = 198; ip[17] = 18; ip[18] = 9; ip[19] = 2;
        uint sum = 0;
        for (int k = 0; k < 20; k += 2) sum += BinaryPrimitives.ReadUInt16BigEndian(ip[k..]);
        while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], (ushort)~sum);
        var udp = f.AsSpan(34);
        BinaryPrimitives.WriteUInt16BigEndian(udp, (ushort)(10000 + flow));
        BinaryPrimitives.WriteUInt16BigEndian(udp[2..], 7777);
        BinaryPrimitives.WriteUInt16BigEndian(udp[4..], (ushort)(f.Length - 34));
        BinaryPrimitives.WriteInt32BigEndian(f.AsSpan(42), flow);
        BinaryPrimitives.WriteInt32BigEndian(f.AsSpan(46), seq);
    }
}
