using System.Buffers.Binary;
using Appliance.Bpf.Routing;
using Appliance.Config;
using Appliance.Interop;
using static Appliance.Interop.NetlinkRoute;

namespace Appliance.Datapath.Routing;

/// <summary>An address of an interface (RTM_NEWADDR), for the source a route would use.</summary>
public readonly record struct AddressEntry(int Ifindex, IpFamily Family, UInt128 Address, int PrefixLength, byte Scope, uint Flags)
{
    /// <summary>IFA_F_SECONDARY, IFA_F_TENTATIVE, IFA_F_DEPRECATED, IFA_F_DADFAILED: not a source to pick.</summary>
    public bool Preferred => (Flags & (0x01 | 0x40 | 0x20 | 0x08)) == 0;
}

/// <summary>Reads the rtnetlink payloads the kernel tables follow: RTM_NEWROUTE/DELROUTE into <see cref="Route"/>,
/// RTM_NEWNEIGH/DELNEIGH into <see cref="Neighbour"/>, RTM_NEWADDR/DELADDR into <see cref="AddressEntry"/> and
/// RTM_NEWNETCONF (forwarding per interface). What the tables do not model comes back as null.</summary>
public static class RoutingMessages
{
    /// <summary>The route of an rtmsg payload; null for other families, cloned (cache) entries, and source-specific or TOS routes.</summary>
    public static Route? ParseRoute(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < RtMsgSize) return null;
        var family = (IpFamily)payload[0];
        int dstLength = payload[1], srcLength = payload[2], tos = payload[3];
        int table = payload[4];
        var kind = (RouteKind)payload[7];
        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(payload[8..]);
        int length = IpFamilies.AddressLength(family);
        if (length == 0 || (flags & RTM_F_CLONED) != 0 || srcLength != 0 || tos != 0) return null;
        UInt128 dst = 0, gateway = 0, source = 0;
        var gatewayFamily = IpFamily.Unspec;
        int oif = 0, mtu = 0;
        bool locked = false;
        uint metric = 0;
        var reader = new NetlinkAttributeReader(payload[RtMsgSize..]);
        while (reader.TryRead(out var type, out var value))
        {
            switch (type)
            {
                case RTA_DST when value.Length >= length: dst = IpNumbers.Read(family, value); break;
                case RTA_OIF: oif = NetlinkValue.S32(value); break;
                case RTA_GATEWAY when value.Length >= length:
                    gateway = IpNumbers.Read(family, value);
                    gatewayFamily = family;
                    break;
                case RTA_VIA when value.Length >= 2 && Via(value, out gatewayFamily, out gateway): break;
                case RTA_PREFSRC when value.Length >= length: source = IpNumbers.Read(family, value); break;
                case RTA_PRIORITY: metric = NetlinkValue.U32(value); break;
                case RTA_TABLE: table = (int)NetlinkValue.U32(value); break;
                case RTA_METRICS: (mtu, locked) = MetricsMtu(value); break;
                case RTA_MULTIPATH when oif == 0: (oif, gatewayFamily, gateway) = FirstHop(family, value); break;
            }
        }
        return new Route(family, IpNumbers.Mask(family, dst, dstLength), dstLength, table, metric, kind, oif, gatewayFamily, gateway, mtu,
            locked, source);
    }

    /// <summary>struct rtvia { u16 family; u8 addr[]; }.</summary>
    private static bool Via(ReadOnlySpan<byte> value, out IpFamily family, out UInt128 address)
    {
        family = (IpFamily)BinaryPrimitives.ReadUInt16LittleEndian(value);
        int length = IpFamilies.AddressLength(family);
        address = length != 0 && value.Length >= 2 + length ? IpNumbers.Read(family, value[2..]) : 0;
        if (length == 0 || value.Length < 2 + length) family = IpFamily.Unspec;
        return true;
    }

    private static (int Mtu, bool Locked) MetricsMtu(ReadOnlySpan<byte> metrics)
    {
        int mtu = 0;
        uint locks = 0;
        var reader = new NetlinkAttributeReader(metrics);
        while (reader.TryRead(out var type, out var value))
        {
            if (type == RTAX_MTU) mtu = (int)NetlinkValue.U32(value);
            else if (type == RTAX_LOCK) locks = NetlinkValue.U32(value);
        }
        return (mtu, (locks & (1u << RTAX_MTU)) != 0);
    }

    /// <summary>struct rtnexthop { u16 len; u8 flags; u8 hops; s32 ifindex; } then its attributes: the first one.</summary>
    private static (int Oif, IpFamily GatewayFamily, UInt128 Gateway) FirstHop(IpFamily family, ReadOnlySpan<byte> multipath)
    {
        if (multipath.Length < 8) return (0, IpFamily.Unspec, 0);
        int len = BinaryPrimitives.ReadUInt16LittleEndian(multipath);
        int oif = BinaryPrimitives.ReadInt32LittleEndian(multipath[4..]);
        if (len < 8 || len > multipath.Length) return (oif, IpFamily.Unspec, 0);
        var reader = new NetlinkAttributeReader(multipath[8..len]);
        while (reader.TryRead(out var type, out var value))
        {
            if (type == RTA_GATEWAY && value.Length >= IpFamilies.AddressLength(family)) return (oif, family, IpNumbers.Read(family, value));
            if (type == RTA_VIA && value.Length >= 2 && Via(value, out var f, out var a) && f != IpFamily.Unspec) return (oif, f, a);
        }
        return (oif, IpFamily.Unspec, 0);
    }

    /// <summary>The neighbour of an ndmsg payload; null for other families and proxy entries.</summary>
    public static Neighbour? ParseNeighbour(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < NdMsgSize) return null;
        var family = (IpFamily)payload[0];
        int ifindex = BinaryPrimitives.ReadInt32LittleEndian(payload[4..]);
        ushort state = BinaryPrimitives.ReadUInt16LittleEndian(payload[8..]);
        byte flags = payload[10];
        int length = IpFamilies.AddressLength(family);
        if (length == 0 || (flags & NTF_PROXY) != 0) return null;
        UInt128 address = 0;
        bool hasAddress = false;
        var mac = default(MacAddress);
        var reader = new NetlinkAttributeReader(payload[NdMsgSize..]);
        while (reader.TryRead(out var type, out var value))
        {
            if (type == NDA_DST && value.Length >= length)
            {
                address = IpNumbers.Read(family, value);
                hasAddress = true;
            }
            else if (type == NDA_LLADDR && value.Length == 6) mac = MacAddress.Read(value);
        }
        return hasAddress ? new Neighbour(family, ifindex, address, mac, state) : null;
    }

    /// <summary>The address of an ifaddrmsg payload (IFA_LOCAL, else IFA_ADDRESS); null for other families.</summary>
    public static AddressEntry? ParseAddress(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < IfAddrSize) return null;
        var family = (IpFamily)payload[0];
        int length = IpFamilies.AddressLength(family);
        if (length == 0) return null;
        int prefix = payload[1], scope = payload[3];
        uint flags = payload[2];
        int ifindex = BinaryPrimitives.ReadInt32LittleEndian(payload[4..]);
        UInt128? local = null, address = null;
        var reader = new NetlinkAttributeReader(payload[IfAddrSize..]);
        while (reader.TryRead(out var type, out var value))
        {
            if (type == IFA_LOCAL && value.Length >= length) local = IpNumbers.Read(family, value);
            else if (type == IFA_ADDRESS && value.Length >= length) address = IpNumbers.Read(family, value);
            else if (type == IFA_FLAGS) flags = NetlinkValue.U32(value);
        }
        return (local ?? address) is { } a ? new AddressEntry(ifindex, family, a, prefix, (byte)scope, flags) : null;
    }

    /// <summary>An RTM_NEWNETCONF payload: the interface (negative: all/default) and its forwarding setting when present.</summary>
    public static (IpFamily Family, int Ifindex, int? Forwarding) ParseNetconf(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < NetconfMsgSize) return (IpFamily.Unspec, 0, null);
        var family = (IpFamily)payload[0];
        int ifindex = 0;
        int? forwarding = null;
        var reader = new NetlinkAttributeReader(payload[NetconfMsgSize..]);
        while (reader.TryRead(out var type, out var value))
        {
            if (type == NETCONFA_IFINDEX) ifindex = NetlinkValue.S32(value);
            else if (type == NETCONFA_FORWARDING) forwarding = NetlinkValue.S32(value);
        }
        return (family, ifindex, forwarding);
    }
}
