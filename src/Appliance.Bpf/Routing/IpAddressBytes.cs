using System.Runtime.CompilerServices;

namespace Appliance.Bpf.Routing;

/// <summary>16 bytes holding an IPv4 (first 4) or IPv6 address in network byte order, stored inline (no array):
/// <c>Span&lt;byte&gt; s = value;</c> views it.</summary>
[InlineArray(16)]
public struct IpAddressBytes
{
    private byte _element0;

    /// <summary>The address <paramref name="bytes"/> (4 or 16 bytes; more are cut, fewer zero-filled).</summary>
    public static IpAddressBytes From(ReadOnlySpan<byte> bytes)
    {
        var a = default(IpAddressBytes);
        bytes[..Math.Min(bytes.Length, 16)].CopyTo(a);
        return a;
    }
}

/// <summary>A 6-byte Ethernet address stored inline.</summary>
[InlineArray(6)]
public struct MacBytes
{
    private byte _element0;

    public static MacBytes From(ReadOnlySpan<byte> bytes)
    {
        var m = default(MacBytes);
        bytes[..Math.Min(bytes.Length, 6)].CopyTo(m);
        return m;
    }
}
