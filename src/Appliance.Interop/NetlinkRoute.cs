namespace Appliance.Interop;

/// <summary>rtnetlink message types, groups and attributes (include/uapi/linux/rtnetlink.h, if_link.h,
/// if_addr.h, veth.h), plus the fixed headers' sizes.</summary>
public static class NetlinkRoute
{
    public const ushort RTM_NEWLINK = 16, RTM_DELLINK = 17, RTM_GETLINK = 18, RTM_SETLINK = 19;
    public const ushort RTM_NEWADDR = 20, RTM_DELADDR = 21, RTM_GETADDR = 22;

    /// <summary>Multicast group numbers for NETLINK_ADD_MEMBERSHIP.</summary>
    public const int RTNLGRP_LINK = 1;

    /// <summary>sizeof(struct ifinfomsg): family, pad, type (u16), index (s32), flags, change (u32).</summary>
    public const int IfInfoSize = 16;
    /// <summary>sizeof(struct ifaddrmsg): family, prefixlen, flags, scope (u8), index (u32).</summary>
    public const int IfAddrSize = 8;

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

    public const ushort IFA_ADDRESS = 1, IFA_LOCAL = 2;
    public const byte RT_SCOPE_UNIVERSE = 0;

    /// <summary>net_device flags (include/uapi/linux/if.h).</summary>
    public const uint IFF_UP = 0x1, IFF_BROADCAST = 0x2, IFF_LOOPBACK = 0x8, IFF_RUNNING = 0x40,
        IFF_NOARP = 0x80, IFF_PROMISC = 0x100, IFF_LOWER_UP = 0x10000;
}
