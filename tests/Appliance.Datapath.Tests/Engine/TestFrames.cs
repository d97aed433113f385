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
}
