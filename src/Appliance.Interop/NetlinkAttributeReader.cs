using System.Buffers.Binary;
using System.Text;
using static Appliance.Interop.NetlinkConstants;

namespace Appliance.Interop;

/// <summary>Walks a run of attributes (the tail of a message, or the value of a nested attribute).
/// The type comes back without the NLA_F_NESTED / NLA_F_NET_BYTEORDER bits.</summary>
public ref struct NetlinkAttributeReader(ReadOnlySpan<byte> attributes)
{
    private ReadOnlySpan<byte> _rest = attributes;

    public bool TryRead(out ushort type, out ReadOnlySpan<byte> value)
    {
        type = 0;
        value = default;
        if (_rest.Length < AttributeHeaderSize) return false;
        int len = BinaryPrimitives.ReadUInt16LittleEndian(_rest);
        if (len < AttributeHeaderSize || len > _rest.Length) return false;
        type = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(_rest[2..]) & NLA_TYPE_MASK);
        value = _rest[AttributeHeaderSize..len];
        _rest = _rest[Math.Min(Align(len), _rest.Length)..];
        return true;
    }
}

/// <summary>Decoders for attribute values.</summary>
public static class NetlinkValue
{
    public static byte U8(ReadOnlySpan<byte> v) => v.Length >= 1 ? v[0] : (byte)0;
    public static uint U32(ReadOnlySpan<byte> v) => v.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(v) : 0;
    public static int S32(ReadOnlySpan<byte> v) => v.Length >= 4 ? BinaryPrimitives.ReadInt32LittleEndian(v) : 0;

    /// <summary>A string attribute up to its first NUL.</summary>
    public static string String(ReadOnlySpan<byte> v)
    {
        int nul = v.IndexOf((byte)0);
        return Encoding.UTF8.GetString(nul < 0 ? v : v[..nul]);
    }
}
