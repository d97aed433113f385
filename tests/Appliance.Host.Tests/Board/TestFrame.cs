using System.Buffers.Binary;

namespace Appliance.Host.Tests.Board;

/// <summary>Test Ethernet frames: locally administered MACs, EtherType 0x88B5 (IEEE local experimental), a
/// 32-bit sequence number and a payload pattern derived from it (board.md §3).</summary>
public static class TestFrame
{
    public const ushort EtherType = 0x88B5;
    public static readonly byte[] Destination = [0x02, 0, 0, 0, 0, 0x99];
    public static readonly byte[] Source = [0x02, 0, 0, 0, 0, 0x01];

    public static byte[] Build(uint sequence, int length)
    {
        var f = new byte[Math.Max(length, 60)];
        Destination.CopyTo(f, 0);
        Source.CopyTo(f, 6);
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(12), EtherType);
        BinaryPrimitives.WriteUInt32BigEndian(f.AsSpan(14), sequence);
        for (var i = 18; i < f.Length; i++) f[i] = (byte)(sequence * 31 + i);
        return f;
    }

    public static bool IsTestFrame(byte[] frame) =>
        frame.Length >= 18 && BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(12)) == EtherType;

    public static uint SequenceOf(byte[] frame) => BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(14));
}
