namespace Appliance.Bpf.Context;

/// <summary>Offsets of <c>struct __sk_buff</c> (tc layout, sizeof 192; include/uapi/linux/bpf.h) and the kernel's
/// access rules for a tc program (<c>tc_cls_act_is_valid_access</c> + <c>bpf_skb_is_valid_access</c>,
/// net/core/filter.c, 6.x): which offsets and sizes a load or store may use. The verifier applies them at load
/// wherever it can tell a register holds the context; the VM applies the store rules at run time.</summary>
public static class SkBuffLayout
{
    public const int Size = 192;
    public const int Len = 0, PktType = 4, Mark = 8, QueueMapping = 12, Protocol = 16, VlanPresent = 20, VlanTci = 24,
        VlanProto = 28, Priority = 32, IngressIfindex = 36, Ifindex = 40, TcIndex = 44, Cb = 48, CbCount = 5,
        Hash = 68, TcClassId = 72, Data = 76, DataEnd = 80, NapiId = 84, Family = 88, LocalPortEnd = 140,
        DataMeta = 140, FlowKeys = 144, Tstamp = 152, WireLen = 160, GsoSegs = 164, Sk = 168, GsoSize = 176,
        TstampType = 180, HwTstamp = 184;

    /// <summary>The value the kernel's <c>queue_mapping</c> store treats as "no queue" (NO_QUEUE_MAPPING): a
    /// store of this or more is ignored.</summary>
    public const uint NoQueueMapping = 0xffff;

    /// <summary>Null when the kernel lets a tc program load (<paramref name="write"/> false) or store
    /// <paramref name="size"/> bytes at <paramref name="offset"/> of the context; otherwise why not.</summary>
    public static string? CheckAccess(long offset, int size, bool write)
    {
        if (offset < 0 || offset >= Size) return "is outside the 192-byte __sk_buff";
        if (size is not (1 or 2 or 4 or 8)) return "has an invalid size";
        int off = (int)offset;
        if (write && !(InField(off, Mark, 4) || InField(off, TcIndex, 4) || InField(off, Priority, 4)
            || InField(off, TcClassId, 4) || InField(off, Cb, 4 * CbCount) || InField(off, Tstamp, 8)
            || InField(off, QueueMapping, 4)))
            return $"writes {FieldName(off)}, which is read-only for tc programs (writable: mark, priority, tc_index, tc_classid, queue_mapping, cb[], tstamp)";
        if (off >= Family && off < LocalPortEnd) return $"reads {FieldName(off)}, a socket field tc programs cannot access";
        if (off == TstampType) return size == 1 ? null : "reads tstamp_type with a size other than 1 byte";
        if (off % size != 0) return $"is misaligned ({size} bytes at offset {off})";
        if (InField(off, Cb, 4 * CbCount)) return off + size <= Cb + 4 * CbCount ? null : "runs past cb[4]";
        if (InField(off, Data, 4) || InField(off, DataEnd, 4) || InField(off, DataMeta, 4))
            return size == 4 ? null : $"accesses {FieldName(off)} with a size other than 4 bytes";
        if (InField(off, FlowKeys, 8)) return "reads flow_keys, which only flow-dissector programs may";
        if (InField(off, HwTstamp, 8)) return size == 8 && !write ? null : "accesses hwtstamp other than as an 8-byte read";
        if (InField(off, Tstamp, 8)) return size == 8 ? null : "accesses tstamp with a size other than 8 bytes";
        if (InField(off, Sk, 8)) return off == Sk && size == 8 && !write ? null : "accesses sk other than as an 8-byte read";
        if (off > TstampType && off < HwTstamp) return "touches the padding after tstamp_type";
        if (write) return size == 4 ? null : $"writes {FieldName(off)} with a size other than 4 bytes";
        return size <= 4 ? null : $"reads {FieldName(off)} with more than 4 bytes";
    }

    /// <summary>The fields a store may change whose kernel storage is narrower than the 4 bytes a program
    /// writes: the kernel keeps their low 16 bits (<c>queue_mapping</c> also ignores values of 0xffff and up).</summary>
    public static bool IsNarrowWritableField(long offset) => offset is TcIndex or TcClassId or QueueMapping;

    /// <summary>Where the engine must load from to give what the kernel gives for an allowed load of
    /// <paramref name="size"/> bytes at <paramref name="offset"/>. The kernel rewrites a context load into a load
    /// of the whole sk_buff field; for fields narrower than 4 bytes there (pkt_type and tstamp_type: 1;
    /// queue_mapping, protocol, vlan_tci, vlan_proto, tc_index, tc_classid, gso_segs, gso_size: 2) a load at least
    /// as wide as the field returns the field whatever byte lane it names (e.g. a 2-byte load of tc_index + 2
    /// reads tc_index). The shadow holds those fields zero-extended, so such a load reads from the field's start.</summary>
    public static int LoadOffset(int offset, int size)
    {
        int field = offset & ~3;
        int width = field switch
        {
            PktType or TstampType => 1,
            QueueMapping or Protocol or VlanTci or VlanProto or TcIndex or TcClassId or GsoSegs or GsoSize => 2,
            _ => 4,
        };
        return width < 4 && size >= width ? field : offset;
    }

    /// <summary>The field containing <paramref name="offset"/>, for messages.</summary>
    public static string FieldName(int offset) => offset switch
    {
        < 4 => "len",
        < 8 => "pkt_type",
        < 12 => "mark",
        < 16 => "queue_mapping",
        < 20 => "protocol",
        < 24 => "vlan_present",
        < 28 => "vlan_tci",
        < 32 => "vlan_proto",
        < 36 => "priority",
        < 40 => "ingress_ifindex",
        < 44 => "ifindex",
        < 48 => "tc_index",
        < 68 => $"cb[{(offset - Cb) / 4}]",
        < 72 => "hash",
        < 76 => "tc_classid",
        < 80 => "data",
        < 84 => "data_end",
        < 88 => "napi_id",
        < 92 => "family",
        < 96 => "remote_ip4",
        < 100 => "local_ip4",
        < 116 => "remote_ip6",
        < 132 => "local_ip6",
        < 136 => "remote_port",
        < 140 => "local_port",
        < 144 => "data_meta",
        < 152 => "flow_keys",
        < 160 => "tstamp",
        < 164 => "wire_len",
        < 168 => "gso_segs",
        < 176 => "sk",
        < 180 => "gso_size",
        180 => "tstamp_type",
        < 184 => "padding",
        < 192 => "hwtstamp",
        _ => $"offset {offset}",
    };

    private static bool InField(int offset, int fieldOffset, int fieldSize) => offset >= fieldOffset && offset < fieldOffset + fieldSize;
}
