namespace Appliance.Interop;

/// <summary>rtnetlink message types, groups and attributes (include/uapi/linux/rtnetlink.h, if_link.h,
/// if_addr.h, veth.h), plus the fixed headers' sizes.</summary>
public static class NetlinkRoute
{
    public const ushort RTM_NEWLINK = 16, RTM_DELLINK = 17, RTM_GETLINK = 18, RTM_SETLINK = 19;
    public const ushort RTM_NEWADDR = 20, RTM_DELADDR = 21, RTM_GETADDR = 22;
    public const ushort RTM_NEWROUTE = 24, RTM_DELROUTE = 25, RTM_GETROUTE = 26;
    public const ushort RTM_NEWNEIGH = 28, RTM_DELNEIGH = 29, RTM_GETNEIGH = 30;
    public const ushort RTM_NEWNETCONF = 80, RTM_GETNETCONF = 82;

    /// <summary>Multicast group numbers for NETLINK_ADD_MEMBERSHIP.</summary>
    public const int RTNLGRP_LINK = 1, RTNLGRP_NEIGH = 3, RTNLGRP_IPV4_IFADDR = 5, RTNLGRP_IPV4_ROUTE = 7, RTNLGRP_IPV6_IFADDR = 9,
        RTNLGRP_IPV6_ROUTE = 11, RTNLGRP_IPV4_NETCONF = 24, RTNLGRP_IPV6_NETCONF = 25;

    /// <summary>sizeof(struct ifinfomsg): family, pad, type (u16), index (s32), flags, change (u32).</summary>
    public const int IfInfoSize = 16;
    /// <summary>sizeof(struct ifaddrmsg): family, prefixlen, flags, scope (u8), index (u32).</summary>
    public const int IfAddrSize = 8;
    /// <summary>sizeof(struct rtmsg): family, dst_len, src_len, tos, table, protocol, scope, type (u8), flags (u32).</summary>
    public const int RtMsgSize = 12;
    /// <summary>sizeof(struct ndmsg): family, pad1 (u8), pad2 (u16), ifindex (s32), state (u16), flags, type (u8).</summary>
    public const int NdMsgSize = 12;
    /// <summary>struct netconfmsg (one u8 family), aligned.</summary>
    public const int NetconfMsgSize = 4;
    public const ushort NETCONFA_IFINDEX = 1, NETCONFA_FORWARDING = 2;

    /// <summary>Route attributes (rtattr_type_t) and the RTA_METRICS member for the path MTU.</summary>
    public const ushort RTA_DST = 1, RTA_SRC = 2, RTA_IIF = 3, RTA_OIF = 4, RTA_GATEWAY = 5, RTA_PRIORITY = 6, RTA_PREFSRC = 7,
        RTA_METRICS = 8, RTA_MULTIPATH = 9, RTA_TABLE = 15, RTA_VIA = 18;
    public const ushort RTAX_LOCK = 1, RTAX_MTU = 2;
    /// <summary>Route types (rtm_type) and tables.</summary>
    public const byte RTN_UNSPEC = 0, RTN_UNICAST = 1, RTN_LOCAL = 2, RTN_BROADCAST = 3, RTN_ANYCAST = 4, RTN_MULTICAST = 5,
        RTN_BLACKHOLE = 6, RTN_UNREACHABLE = 7, RTN_PROHIBIT = 8, RTN_THROW = 9;
    public const byte RT_TABLE_DEFAULT = 253, RT_TABLE_MAIN = 254, RT_TABLE_LOCAL = 255;
    public const byte RTPROT_BOOT = 3, RTPROT_STATIC = 4;
    public const byte RT_SCOPE_LINK = 253, RT_SCOPE_HOST = 254;
    /// <summary>rtm_flags: a cloned (cached) route, not part of the table.</summary>
    public const uint RTM_F_CLONED = 0x200;

    /// <summary>Neighbour attributes, flags and NUD states (include/uapi/linux/neighbour.h).</summary>
    public const ushort NDA_DST = 1, NDA_LLADDR = 2;
    public const byte NTF_USE = 0x01, NTF_PROXY = 0x08;
    public const ushort NUD_INCOMPLETE = 0x01, NUD_REACHABLE = 0x02, NUD_STALE = 0x04, NUD_DELAY = 0x08, NUD_PROBE = 0x10,
        NUD_FAILED = 0x20, NUD_NOARP = 0x40, NUD_PERMANENT = 0x80, NUD_NONE = 0x00;
    /// <summary>States with a usable link-layer address.</summary>
    public const ushort NUD_VALID = NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE | NUD_PROBE | NUD_STALE | NUD_DELAY;

    public const ushort IFLA_ADDRESS = 1, IFLA_BROADCAST = 2, IFLA_IFNAME = 3, IFLA_MTU = 4, IFLA_LINK = 5,
        IFLA_MASTER = 10, IFLA_TXQLEN = 13, IFLA_OPERSTATE = 16, IFLA_LINKMODE = 17, IFLA_LINKINFO = 18,
        IFLA_NET_NS_PID = 19, IFLA_IFALIAS = 20, IFLA_GROUP = 27, IFLA_NET_NS_FD = 28, IFLA_EXT_MASK = 29,
        IFLA_PROMISCUITY = 30, IFLA_NUM_TX_QUEUES = 31, IFLA_NUM_RX_QUEUES = 32, IFLA_CARRIER = 33,
        IFLA_CARRIER_CHANGES = 35, IFLA_LINK_NETNSID = 37, IFLA_XDP = 43;

    public const ushort IFLA_INFO_KIND = 1, IFLA_INFO_DATA = 2;
    public const ushort VETH_INFO_PEER = 1;

    public const ushort IFLA_XDP_FD = 1, IFLA_XDP_ATTACHED = 2, IFLA_XDP_FLAGS = 3, IFLA_XDP_PROG_ID = 4,
        IFLA_XDP_DRV_PROG_ID = 5, IFLA_XDP_SKB_PROG_ID = 6, IFLA_XDP_HW_PROG_ID = 7, IFLA_XDP_EXPECTED_FD = 8;

    /// <summary>IFLA_EXT_MASK bit that leaves the statistics out of link dumps.</summary>
    public const uint RTEXT_FILTER_SKIP_STATS = 1 << 3;

    public const ushort IFA_ADDRESS = 1, IFA_LOCAL = 2, IFA_FLAGS = 8;
    public const byte RT_SCOPE_UNIVERSE = 0;

    /// <summary>net_device flags (include/uapi/linux/if.h).</summary>
    public const uint IFF_UP = 0x1, IFF_BROADCAST = 0x2, IFF_LOOPBACK = 0x8, IFF_RUNNING = 0x40,
        IFF_NOARP = 0x80, IFF_PROMISC = 0x100, IFF_LOWER_UP = 0x10000;
}
