using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json.Serialization;

namespace Appliance.Config;

/// <summary>A 48-bit Ethernet address, written "02:00:00:00:00:01" (colons or hyphens).</summary>
[JsonConverter(typeof(MacAddressJsonConverter))]
public readonly record struct MacAddress
{
    private readonly ulong _value;

    private MacAddress(ulong value) => _value = value;

    public const string Expected = "a MAC address like \"02:00:00:00:00:01\"";

    /// <summary>The address in the low 48 bits, first octet most significant: a cheap dictionary or map key.</summary>
    public ulong Value => _value;

    /// <summary>The address whose <see cref="Value"/> is <paramref name="value"/> (the low 48 bits are used).</summary>
    public static MacAddress FromValue(ulong value) => new(value & 0xFFFF_FFFF_FFFFUL);

    /// <summary>The address in the first six bytes of <paramref name="six"/> (e.g. an Ethernet header), no allocation.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static MacAddress Read(ReadOnlySpan<byte> six) =>
        new(((ulong)System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(six) << 32)
            | System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(six[2..]));

    /// <summary>The six octets, first octet first.</summary>
    public byte[] GetBytes()
    {
        var bytes = new byte[6];
        for (int i = 0; i < 6; i++) bytes[i] = (byte)(_value >> (8 * (5 - i)));
        return bytes;
    }

    /// <summary>Group bit (I/G) set: multicast or broadcast.</summary>
    public bool IsMulticast
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ((_value >> 40) & 1) != 0;
    }

    public bool IsZero => _value == 0;

    /// <summary>Locally administered (U/L bit set), as generated MACs should be.</summary>
    public bool IsLocallyAdministered => ((_value >> 40) & 2) != 0;

    public static bool TryParse(string text, out MacAddress mac)
    {
        mac = default;
        if (text.Length != 17) return false;
        char separator = text[2];
        if (separator != ':' && separator != '-') return false;
        ulong value = 0;
        for (int i = 0; i < 6; i++)
        {
            int at = i * 3;
            if (i > 0 && text[at - 1] != separator) return false;
            if (!byte.TryParse(text.AsSpan(at, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out byte octet)) return false;
            value = (value << 8) | octet;
        }
        mac = new MacAddress(value);
        return true;
    }

    public static MacAddress Parse(string text) =>
        TryParse(text, out var mac) ? mac : throw new FormatException($"\"{text}\" is not {Expected}");

    public override string ToString()
    {
        var b = GetBytes();
        return $"{b[0]:x2}:{b[1]:x2}:{b[2]:x2}:{b[3]:x2}:{b[4]:x2}:{b[5]:x2}";
    }
}
