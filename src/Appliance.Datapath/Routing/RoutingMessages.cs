using System.Buffers.Binary;
using Appliance.Config;
using Appliance.Interop;
using static Appliance.Interop.NetlinkRoute;

namespace Appliance.Datapath.Routing;

/// <summary>Reads RTM_NEWROUTE/RTM_DELROUTE and RTM_NEWNEIGH/RTM_DELNEIGH payloads into <see cref="Route"/> and
/// <see cref="Neighbour"/>; what the tables do not model comes back as null (see <see cref="RouteTable"/>).</summary>
public static class RoutingMessages
{
    /// <summary>The route of an rtmsg payload; null for other families, cloned (cache) entries, source-specific or
    /// TOS routes and tables other than local, main and default.</summary>
    public static Route? ParseRoute(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < RtMsgSize) return null;
        int family = payload[0], dstLength = payload[1], srcLength = payload[2], tos = payload[3];
        int table = payload[4];
        var kind = (RouteKind)payload[7];
        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(payload[8..]);
        if (family != IpFamily.V4 && family != IpFamily.V6) return null;
        if ((flags & RTM_F_CLONED) != 0 || srcLength != 0 || tos != 0) return null;
        int addressLength = IpFamily.AddressLength(family);
        UInt128 dst = 0, gateway = 0;
        bool hasGateway = false;
        int oif = 0, mtu = 0;
        uint metric = 0;
        var reader = new NetlinkAttributeReader(payload[RtMsgSize..]);
        while (reader.TryRead(out var type, out var value))
        {
            switch (type)
            {
                case RTA_DST when value.Length >= addressLength: dst = IpFamily.Read(family, value); break;
                case RTA_OIF: oif = NetlinkValue.S32(value); break;
                case RTA_GATEWAY when value.Length >= addressLength:
                    gateway = IpFamily.Read(family, value);
                    hasGateway = true;
                    break;
                case RTA_PRIORITY: metric = NetlinkValue.U32(value); break;
                case RTA_TABLE: table = (int)NetlinkValue.U32(value); break;
                case RTA_METRICS: mtu = MetricsMtu(value); break;
                case RTA_MULTIPATH when oif == 0: (oif, gateway, hasGateway) = FirstHop(family, value); break;
            }
        }
        if (table is not (RT_TABLE_LOCAL or RT_TABLE_MAIN or RT_TABLE_DEFAULT)) return null;
        return new Route(family, IpFamily.Mask(family, dst, dstLength), dstLength, kind, oif, gateway, hasGateway, mtu, table, metric);
    }

    private static int MetricsMtu(ReadOnlySpan<byte> metrics)
    {
        var reader = new NetlinkAttributeReader(metrics);
        while (reader.TryRead(out var type, out var value))
            if (type == RTAX_MTU) return (int)NetlinkValue.U32(value);
        return 0;
    }

    /// <summary>struct rtnexthop { u16 len; u8 flags; u8 hops; s32 ifindex; } then its attributes: the first one.</summary>
    private static (int Oif, UInt128 Gateway, bool HasGateway) FirstHop(int family, ReadOnlySpan<byte> multipath)
    {
        if (multipath.Length < 8) return (0, 0, false);
        int len = BinaryPrimitives.ReadUInt16LittleEndian(multipath);
        int oif = BinaryPrimitives.ReadInt32LittleEndian(multipath[4..]);
        if (len < 8 || len > multipath.Length) return (oif, 0, false);
        var reader = new NetlinkAttributeReader(multipath[8..len]);
        while (reader.TryRead(out var type, out var value))
            if (type == RTA_GATEWAY && value.Length >= IpFamily.AddressLength(family)) return (oif, IpFamily.Read(family, value), true);
        return (oif, 0, false);
    }

    /// <summary>The neighbour of an ndmsg payload; null for other families and proxy entries.</summary>
    public static Neighbour? ParseNeighbour(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < NdMsgSize) return null;
        int family = payload[0];
        int ifindex = BinaryPrimitives.ReadInt32LittleEndian(payload[4..]);
        ushort state = BinaryPrimitives.ReadUInt16LittleEndian(payload[8..]);
        byte flags = payload[10];
        if ((family != IpFamily.V4 && family != IpFamily.V6) || (flags & 0x08) != 0) return null; // NTF_PROXY
        int addressLength = IpFamily.AddressLength(family);
        UInt128 address = 0;
        bool hasAddress = false;
        var mac = default(MacAddress);
        var reader = new NetlinkAttributeReader(payload[NdMsgSize..]);
        while (reader.TryRead(out var type, out var value))
        {
            if (type == NDA_DST && value.Length >= addressLength)
            {
                address = IpFamily.Read(family, value);
                hasAddress = true;
            }
            else if (type == NDA_LLADDR && value.Length == 6) mac = MacAddress.Read(value);
        }
        return hasAddress ? new Neighbour(family, ifindex, address, mac, state) : null;
    }
}
