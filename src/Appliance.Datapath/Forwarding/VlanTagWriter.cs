using System.Buffers.Binary;

namespace Appliance.Datapath.Forwarding;

/// <summary>Writes an offloaded VLAN tag (set by bpf_skb_vlan_push, kept as metadata like the kernel's
/// hw-accel tag) into the frame's bytes at transmit: the MAC addresses move 4 bytes into the headroom and the
/// tag (TPID, TCI) goes between them and the EtherType.</summary>
public static class VlanTagWriter
{
    public const int TagLength = 4;

    /// <summary><paramref name="frame"/> starts 4 bytes before the old data (the head already moved); its first
    /// 16 bytes get the addresses and the tag.</summary>
    public static void Write(Span<byte> frame, ushort proto, ushort tci)
    {
        frame.Slice(TagLength, 12).CopyTo(frame);
        BinaryPrimitives.WriteUInt16BigEndian(frame[12..], proto);
        BinaryPrimitives.WriteUInt16BigEndian(frame[14..], tci);
    }
}
