namespace Appliance.Bpf.Context;

/// <summary>The shadow <c>__sk_buff</c>'s fields a run writes from its packet (<see cref="SkBuffShadow"/>), as flags. An
/// interpreted run writes them all; a compiled one only those its code may read before its first runtime call, the
/// rest at that call (see <c>JitCompilation.ContextReads</c>).</summary>
[Flags]
public enum ShadowFields : uint
{
    None = 0,
    Mark = 1 << 0,
    Priority = 1 << 1,
    IngressIfindex = 1 << 2,
    Ifindex = 1 << 3,
    Cb = 1 << 4,
    TcClassId = 1 << 5,
    TcIndex = 1 << 6,
    QueueMapping = 1 << 7,
    WireLen = 1 << 8,
    Tstamp = 1 << 9,
    /// <summary>What <see cref="SkBuffShadow.Fill"/> writes: every writable field and the packet's fixed metadata.</summary>
    Filled = (1 << 10) - 1,
    Len = 1 << 10,
    PktType = 1 << 11,
    Protocol = 1 << 12,
    VlanPresent = 1 << 13,
    VlanTci = 1 << 14,
    VlanProto = 1 << 15,
    Data = 1 << 16,
    DataEnd = 1 << 17,
    DataMeta = 1 << 18,
    Hash = 1 << 19,
    /// <summary>What <see cref="SkBuffShadow.UpdatePacketFields"/> writes: the fields that follow the packet's extent.</summary>
    Packet = Len | PktType | Protocol | VlanPresent | VlanTci | VlanProto | Data | DataEnd | DataMeta | Hash,
    /// <summary>The packet fields that follow its window (written together, see <see cref="SkBuffShadow.UpdatePacketFields"/>).</summary>
    PacketExtent = Len | Data | DataEnd | DataMeta,
    /// <summary>The packet fields that follow its metadata (written together).</summary>
    PacketMeta = PktType | Protocol | VlanPresent | VlanTci | VlanProto | Hash,
    All = Filled | Packet,
}
