using System.Runtime.CompilerServices;

namespace Appliance.Config;

/// <summary>The kinds of martian address a router never routes from, nor forwards to (RFC 1812 §5.3.7, RFC 4291 §2.5).</summary>
public enum MartianKind : byte
{
    /// <summary>Routable.</summary>
    None,
    /// <summary>IPv4 0.0.0.0/8 ("this network").</summary>
    ThisNetwork,
    /// <summary>IPv6 ::.</summary>
    Unspecified,
    /// <summary>IPv4 127.0.0.0/8, IPv6 ::1.</summary>
    Loopback,
    /// <summary>IPv4 169.254.0.0/16, IPv6 fe80::/10.</summary>
    LinkLocal,
    /// <summary>IPv4 224.0.0.0/3 (multicast, class E, limited broadcast), IPv6 ff00::/8.</summary>
    Multicast,
}

/// <summary>The one martian list: the config refuses an l3 tenant address on it (AddressRule) and the L3 router drops
/// packets from (and to) it (L3Frames). It lives here, with the config, because the datapath references the config and
/// not the other way round.</summary>
public static class MartianAddress
{
    /// <summary>What kind of martian <paramref name="address"/> (4 bytes IPv4 or 16 bytes IPv6, network order) is;
    /// <see cref="MartianKind.None"/> for a routable one. Allocation-free: the L3 router calls it per packet.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static MartianKind Of(ReadOnlySpan<byte> address)
    {
        if (address.Length == 4)
            return address[0] switch
            {
                0 => MartianKind.ThisNetwork,
                127 => MartianKind.Loopback,
                169 when address[1] == 254 => MartianKind.LinkLocal,
                >= 224 => MartianKind.Multicast,
                _ => MartianKind.None,
            };
        if (address[0] == 0xff) return MartianKind.Multicast;
        if (address[0] == 0xfe && (address[1] & 0xc0) == 0x80) return MartianKind.LinkLocal;
        if (address[..15].IndexOfAnyExcept((byte)0) >= 0) return MartianKind.None;
        return address[15] switch { 0 => MartianKind.Unspecified, 1 => MartianKind.Loopback, _ => MartianKind.None };
    }
}
