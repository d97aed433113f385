using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Appliance.Interop;

namespace Appliance.Datapath.Routing;

/// <summary>The two address families the routing tables hold, with the kernel's numbers (AF_INET 2, AF_INET6 10),
/// and addresses as integers: IPv4 as its 32 bits, IPv6 as its 128 bits, first byte most significant (network order
/// read big-endian), so a prefix is the top bits and a mask is a shift.</summary>
public static class IpFamily
{
    public const int V4 = SocketCalls.AF_INET, V6 = SocketCalls.AF_INET6;

    /// <summary>Address length in bytes: 4 or 16 (0 for another family).</summary>
    public static int AddressLength(int family) => family == V4 ? 4 : family == V6 ? 16 : 0;

    /// <summary>Most bits a prefix of the family has: 32 or 128.</summary>
    public static int MaxPrefix(int family) => family == V4 ? 32 : 128;

    /// <summary>An address of the family as an integer (4 or 16 bytes, network order).</summary>
    public static UInt128 Read(int family, ReadOnlySpan<byte> address) =>
        family == V4 ? BinaryPrimitives.ReadUInt32BigEndian(address) : BinaryPrimitives.ReadUInt128BigEndian(address);

    /// <summary>Writes the address back in network order (4 or 16 bytes).</summary>
    public static void Write(int family, UInt128 value, Span<byte> destination)
    {
        if (family == V4) BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)value);
        else BinaryPrimitives.WriteUInt128BigEndian(destination, value);
    }

    /// <summary>The network part of <paramref name="value"/>: its first <paramref name="prefixLength"/> bits.</summary>
    public static UInt128 Mask(int family, UInt128 value, int prefixLength)
    {
        int bits = MaxPrefix(family);
        if (prefixLength <= 0) return UInt128.Zero;
        if (prefixLength >= bits) return value;
        return value & ~((UInt128.One << (bits - prefixLength)) - UInt128.One);
    }

    public static int Of(IPAddress address) => address.AddressFamily == AddressFamily.InterNetworkV6 ? V6 : V4;

    public static UInt128 Read(IPAddress address) => Read(Of(address), address.GetAddressBytes());

    /// <summary>The address as text ("10.0.0.1", "fd00::1"), for logs and messages (allocates).</summary>
    public static string Format(int family, UInt128 value)
    {
        Span<byte> b = stackalloc byte[16];
        Write(family, value, b);
        return new IPAddress(b[..AddressLength(family)]).ToString();
    }
}
