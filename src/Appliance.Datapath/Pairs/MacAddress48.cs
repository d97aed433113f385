using System.Buffers.Binary;

namespace Appliance.Datapath.Pairs;

/// <summary>An Ethernet address packed into the low 48 bits of a ulong (a dictionary key with no allocation).</summary>
public readonly record struct MacAddress48(ulong Value)
{
    public static MacAddress48 Read(ReadOnlySpan<byte> six) =>
        new(((ulong)BinaryPrimitives.ReadUInt16BigEndian(six) << 32) | BinaryPrimitives.ReadUInt32BigEndian(six[2..]));

    public static MacAddress48 Parse(string text)
    {
        var parts = text.Split(':', '-');
        if (parts.Length != 6) throw new FormatException($"'{text}' is not a MAC address (expected six hex bytes like 02:00:00:00:00:01)");
        ulong v = 0;
        foreach (var p in parts) v = (v << 8) | Convert.ToByte(p, 16);
        return new MacAddress48(v);
    }

    /// <summary>The I/G bit: broadcast and multicast destinations.</summary>
    public bool IsGroup => ((Value >> 40) & 1) != 0;

    public override string ToString()
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(b, Value);
        return Convert.ToHexString(b[2..]).ToLowerInvariant() is var h
            ? $"{h[0..2]}:{h[2..4]}:{h[4..6]}:{h[6..8]}:{h[8..10]}:{h[10..12]}"
            : "";
    }
}
