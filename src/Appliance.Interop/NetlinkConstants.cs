namespace Appliance.Interop;

/// <summary>Generic netlink framing constants (include/uapi/linux/netlink.h).</summary>
public static class NetlinkConstants
{
    public const int NETLINK_ROUTE = 0;
    public const int NETLINK_ADD_MEMBERSHIP = 1, NETLINK_CAP_ACK = 10, NETLINK_EXT_ACK = 11;

    public const ushort NLMSG_NOOP = 1, NLMSG_ERROR = 2, NLMSG_DONE = 3, NLMSG_OVERRUN = 4;

    public const ushort NLM_F_REQUEST = 0x1, NLM_F_MULTI = 0x2, NLM_F_ACK = 0x4, NLM_F_DUMP_INTR = 0x10;
    /// <summary>GET modifiers.</summary>
    public const ushort NLM_F_ROOT = 0x100, NLM_F_MATCH = 0x200, NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
    /// <summary>NEW modifiers.</summary>
    public const ushort NLM_F_REPLACE = 0x100, NLM_F_EXCL = 0x200, NLM_F_CREATE = 0x400, NLM_F_APPEND = 0x800;
    /// <summary>Flags on an NLMSG_ERROR ack: the request echo is cut to its header / TLVs follow.</summary>
    public const ushort NLM_F_CAPPED = 0x100, NLM_F_ACK_TLVS = 0x200;

    public const ushort NLA_F_NESTED = 0x8000, NLA_F_NET_BYTEORDER = 0x4000;
    public const ushort NLA_TYPE_MASK = unchecked((ushort)~(NLA_F_NESTED | NLA_F_NET_BYTEORDER));

    /// <summary>Extended-ack attributes after the echoed request in NLMSG_ERROR.</summary>
    public const ushort NLMSGERR_ATTR_MSG = 1, NLMSGERR_ATTR_OFFS = 2;

    /// <summary>sizeof(struct nlmsghdr), sizeof(struct nlattr).</summary>
    public const int HeaderSize = 16, AttributeHeaderSize = 4;

    /// <summary>NLMSG_ALIGN / NLA_ALIGN: round up to 4 bytes.</summary>
    public static int Align(int length) => (length + 3) & ~3;
}
