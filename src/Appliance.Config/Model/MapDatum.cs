using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json.Serialization;

namespace Appliance.Config;

/// <summary>
/// A map key or value as written in the config: either raw bytes in memory order (a hex string,
/// "0a000001", separators ' ' or ':' allowed between bytes) or an integer that is stored
/// little-endian (the byte order of arm64 and x86-64) in the map's key or value size.
/// </summary>
[JsonConverter(typeof(MapDatumJsonConverter))]
public readonly record struct MapDatum
{
    public const string Expected = "a hex string of bytes like \"0a000001\" or an integer";

    /// <summary>Lower-case hex digits without separators when written as a string; otherwise null.</summary>
    public string? Hex { get; }

    /// <summary>The integer when written as a number; otherwise null.</summary>
    public Int128? Integer { get; }

    private MapDatum(string? hex, Int128? integer) { Hex = hex; Integer = integer; }

    /// <summary>Smallest and largest integer accepted (long.MinValue .. ulong.MaxValue).</summary>
    public static readonly Int128 MinInteger = long.MinValue, MaxInteger = ulong.MaxValue;

    /// <summary>Parses a hex string; on failure <paramref name="problem"/> says what is wrong.</summary>
    public static bool TryParseHex(string text, out MapDatum datum, out string? problem)
    {
        datum = default;
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            problem = "a hex string is the bytes in memory order without \"0x\" (e.g. \"0a000001\"); write a number without quotes for an integer";
            return false;
        }
        // Bytes of two hex digits each, optionally separated by one ' ' or ':' (config.schema.json has the same pattern).
        var digits = new System.Text.StringBuilder(text.Length);
        for (int i = 0; i < text.Length;)
        {
            if (digits.Length > 0 && text[i] is ' ' or ':') i++;
            int start = i;
            while (i < text.Length && i - start < 2 && char.IsAsciiHexDigit(text[i])) digits.Append(char.ToLowerInvariant(text[i++]));
            if (i - start == 2) continue;
            if (i < text.Length && !char.IsAsciiHexDigit(text[i]) && text[i] is not (' ' or ':')) { problem = $"'{text[i]}' is not a hex digit"; return false; }
            problem = "write each byte as two hex digits, optionally separated by one space or colon (e.g. \"0a 00 00 01\")";
            return false;
        }
        if (digits.Length == 0) { problem = "no bytes given"; return false; }
        datum = new MapDatum(digits.ToString(), null);
        problem = null;
        return true;
    }

    /// <summary>Parses a JSON number's text; integers from long.MinValue to ulong.MaxValue.</summary>
    public static bool TryParseInteger(string text, out MapDatum datum)
    {
        datum = default;
        if (!Int128.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)) return false;
        if (value < MinInteger || value > MaxInteger) return false;
        datum = new MapDatum(null, value);
        return true;
    }

    /// <summary>Length in bytes when written as hex; null for integers (they take the map's size).</summary>
    public int? HexLength => Hex is null ? null : Hex.Length / 2;

    /// <summary>The bytes for a key or value of <paramref name="size"/> bytes, or null if it does not fit.</summary>
    public byte[]? ToBytes(int size)
    {
        if (Hex is not null)
            return Hex.Length / 2 == size ? Convert.FromHexString(Hex) : null;
        Int128 value = Integer!.Value;
        if (size is not (1 or 2 or 4 or 8)) return null;
        Int128 unsignedMax = (Int128.One << (size * 8)) - 1;
        Int128 signedMin = -(Int128.One << (size * 8 - 1));
        if (value > unsignedMax || value < signedMin) return null;
        var bytes = new byte[8];
        ulong bits = value < 0 ? unchecked((ulong)(long)value) : (ulong)value;
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, bits);
        return bytes[..size];
    }

    public override string ToString() => Hex is not null ? $"\"{Hex}\"" : Integer!.Value.ToString(CultureInfo.InvariantCulture);
}
