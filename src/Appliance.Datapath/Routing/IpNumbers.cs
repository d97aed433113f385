using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Appliance.Bpf.Routing;

namespace Appliance.Datapath.Routing;

/// <summary>Addresses as integers for hashing and masking: IPv4 as its 32 bits, IPv6 as its 128 bits, first byte
/// most significant (network order read big-endian), so a prefix is the top bits and a mask is a shift. The family
/// is the routing helpers' <see cref="IpFamily"/> (AF_INET, AF_INET6).</summary>
public static class IpNumbers
{
    /// <summary>Most bits a prefix of the family has: 32 or 128.</summary>
    public static int MaxPrefix(IpFamily family) => family == IpFamily.Inet ? 32 : 128;

    /// <summary>An address of the family as an integer (4 or 16 bytes, network order).</summary>
    public static UInt128 Read(IpFamily family, ReadOnlySpan<byte> address) =>
        family == IpFamily.Inet ? BinaryPrimitives.ReadUInt32BigEndian(address) : BinaryPrimitives.ReadUInt128BigEndian(address);

    /// <summary>Writes the address back in network order (4 or 16 bytes).</summary>
    public static void Write(IpFamily family, UInt128 value, Span<byte> destination)
    {
        if (family == IpFamily.Inet) BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)value);
        else BinaryPrimitives.WriteUInt128BigEndian(destination, value);
    }

    /// <summary>The address as the helpers' inline bytes (network order).</summary>
    public static IpAddressBytes Bytes(IpFamily family, UInt128 value)
    {
        var b = default(IpAddressBytes);
        Write(family, value, b);
        return b;
    }

    /// <summary>The network part of <paramref name="value"/>: its first <paramref name="prefixLength"/> bits.</summary>
    public static UInt128 Mask(IpFamily family, UInt128 value, int prefixLength)
    {
        int bits = MaxPrefix(family);
        if (prefixLength <= 0) return UInt128.Zero;
        if (prefixLength >= bits) return value;
        return value & ~((UInt128.One << (bits - prefixLength)) - UInt128.One);
    }

    public static IpFamily Of(IPAddress address) => address.AddressFamily == AddressFamily.InterNetworkV6 ? IpFamily.Inet6 : IpFamily.Inet;

    public static UInt128 Read(IPAddress address) => Read(Of(address), address.GetAddressBytes());

    /// <summary>The address as text ("10.0.0.1", "fd00::1"), for logs and messages (allocates).</summary>
    public static string Format(IpFamily family, UInt128 value)
    {
        Span<byte> b = stackalloc byte[16];
        Write(family, value, b);
        return new IPAddress(b[..IpFamilies.AddressLength(family)]).ToString();
    }
}
