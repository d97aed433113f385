using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Appliance.Bpf.Context;

/// <summary>Fills the 192-byte shadow <c>__sk_buff</c> a program reads from a <see cref="PacketContext"/>, and
/// copies the writable fields back after the run (mark, priority, tc_index, tc_classid, queue_mapping, cb[],
/// tstamp). Fields the kernel stores in 16 bits (tc_index, tc_classid, queue_mapping) hold 16-bit values.
/// <c>wire_len</c> is the length the frame arrived with (the kernel's qdisc pkt_len, which resizing helpers
/// leave alone). Pointer-typed fields (<c>flow_keys</c>, <c>sk</c>: the appliance has no sockets) read 0;
/// <c>data</c>/<c>data_end</c>/<c>data_meta</c> hold 32-bit virtual addresses of the packet window (see
/// <c>VirtualAddress</c>), so clang's 32-bit loads work unchanged.</summary>
public static class SkBuffShadow
{
    /// <summary>Writes the fields a run starts from: the writable ones and the packet's fixed metadata (all of
    /// <see cref="ShadowFields.Filled"/>, or those of them in <paramref name="fields"/>: a compiled run's start writes
    /// only those its code reads, its first runtime call the rest). Fields no run writes are never written by anyone
    /// (a program may store only to writable fields), so a shadow zeroed once when it is allocated reads 0 there in
    /// every run — no per-run clear. <see cref="UpdatePacketFields"/> adds the fields that follow the packet's extent.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Fill(Span<byte> shadow, in PacketContext packet, ShadowFields fields = ShadowFields.Filled)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shadow.Length, SkBuffLayout.Size);
        if ((fields & ShadowFields.Mark) != 0) Put(shadow, SkBuffLayout.Mark, packet.Mark);
        if ((fields & ShadowFields.Priority) != 0) Put(shadow, SkBuffLayout.Priority, packet.Priority);
        if ((fields & ShadowFields.IngressIfindex) != 0) Put(shadow, SkBuffLayout.IngressIfindex, packet.IngressIfindex);
        if ((fields & ShadowFields.Ifindex) != 0) Put(shadow, SkBuffLayout.Ifindex, packet.Ifindex);
        if ((fields & ShadowFields.Cb) != 0)
            for (int i = 0; i < SkBuffLayout.CbCount; i++) Put(shadow, SkBuffLayout.Cb + 4 * i, packet.Cb[i]);
        if ((fields & ShadowFields.TcClassId) != 0) Put(shadow, SkBuffLayout.TcClassId, (ushort)packet.TcClassId);
        if ((fields & ShadowFields.TcIndex) != 0) Put(shadow, SkBuffLayout.TcIndex, (ushort)packet.TcIndex);
        if ((fields & ShadowFields.QueueMapping) != 0) Put(shadow, SkBuffLayout.QueueMapping, (ushort)packet.QueueMapping);
        if ((fields & ShadowFields.WireLen) != 0) Put(shadow, SkBuffLayout.WireLen, (uint)packet.Length);
        if ((fields & ShadowFields.Tstamp) != 0)
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref MemoryMarshal.GetReference(shadow), SkBuffLayout.Tstamp),
                BitConverter.IsLittleEndian ? packet.Tstamp : BinaryPrimitives.ReverseEndianness(packet.Tstamp));
    }

    /// <summary>Where each field a run writes lies in the shadow (offset, bytes), by flag.</summary>
    private static ReadOnlySpan<int> FieldOffsets =>
    [
        SkBuffLayout.Mark, 4, SkBuffLayout.Priority, 4, SkBuffLayout.IngressIfindex, 4, SkBuffLayout.Ifindex, 4,
        SkBuffLayout.Cb, 4 * SkBuffLayout.CbCount, SkBuffLayout.TcClassId, 4, SkBuffLayout.TcIndex, 4, SkBuffLayout.QueueMapping, 4,
        SkBuffLayout.WireLen, 4, SkBuffLayout.Tstamp, 8,
        SkBuffLayout.Len, 4, SkBuffLayout.PktType, 4, SkBuffLayout.Protocol, 4, SkBuffLayout.VlanPresent, 4, SkBuffLayout.VlanTci, 4,
        SkBuffLayout.VlanProto, 4, SkBuffLayout.Data, 4, SkBuffLayout.DataEnd, 4, SkBuffLayout.DataMeta, 4, SkBuffLayout.Hash, 4,
    ];

    /// <summary>The fields a run writes that [<paramref name="offset"/>, +<paramref name="size"/>) overlaps.</summary>
    public static ShadowFields FieldsAt(int offset, int size)
    {
        var fields = ShadowFields.None;
        var table = FieldOffsets;
        for (int f = 0; 2 * f < table.Length; f++)
            if (offset < table[2 * f] + table[2 * f + 1] && table[2 * f] < offset + size) fields |= (ShadowFields)(1u << f);
        return fields;
    }

    /// <summary>What the kernel keeps of a 4-byte store to a 16-bit field (<see cref="SkBuffLayout.IsNarrowWritableField"/>):
    /// the low 16 bits, except that <c>queue_mapping</c> ignores stores of <see cref="SkBuffLayout.NoQueueMapping"/>
    /// and up. <paramref name="previous"/> is the field before the store, <paramref name="stored"/> what the program wrote.</summary>
    public static uint NarrowStoreResult(int offset, uint previous, uint stored) =>
        NarrowStoreResult(offset, previous, stored, ignoredByQueueMapping: stored >= SkBuffLayout.NoQueueMapping);

    /// <summary><see cref="NarrowStoreResult(int, uint, uint)"/> when the store's instruction is known: the kernel's
    /// rewrite compares an immediate (BPF_ST) as a signed 32-bit value and a register (BPF_STX) as its whole 64 bits
    /// with <see cref="SkBuffLayout.NoQueueMapping"/> (<see cref="IgnoredByQueueMapping"/>), and stores the low 16 bits otherwise.</summary>
    public static uint NarrowStoreResult(int offset, uint previous, uint stored, bool ignoredByQueueMapping) =>
        offset == SkBuffLayout.QueueMapping && ignoredByQueueMapping ? previous : (ushort)stored;

    /// <summary>Whether a verified store to <c>queue_mapping</c> is ignored, as the kernel decides it: an immediate
    /// (<paramref name="immediate"/>: BPF_ST) from <see cref="SkBuffLayout.NoQueueMapping"/> up as a signed value (a
    /// negative one is stored), a register's whole 64 bits (BPF_STX) from it up unsigned (upper bits set: ignored).</summary>
    public static bool IgnoredByQueueMapping(bool immediate, ulong value) =>
        immediate ? (int)value >= (int)SkBuffLayout.NoQueueMapping : value >= SkBuffLayout.NoQueueMapping;

    /// <summary>The packet field groups (<see cref="ShadowFields.PacketExtent"/>, <see cref="ShadowFields.PacketMeta"/>)
    /// <paramref name="fields"/> touches, whole: what <see cref="UpdatePacketFields"/> writes for them.</summary>
    public static ShadowFields PacketGroupsOf(ShadowFields fields) =>
        ((fields & ShadowFields.PacketExtent) != 0 ? ShadowFields.PacketExtent : ShadowFields.None) |
        ((fields & ShadowFields.PacketMeta) != 0 ? ShadowFields.PacketMeta : ShadowFields.None);

    /// <summary>The fields that change when a helper moves or resizes the packet (<see cref="ShadowFields.Packet"/>), or those
    /// groups of them (<see cref="ShadowFields.PacketExtent"/>, <see cref="ShadowFields.PacketMeta"/>) <paramref name="fields"/> touches.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void UpdatePacketFields(Span<byte> shadow, in PacketContext packet, uint data, uint dataEnd, ShadowFields fields = ShadowFields.Packet)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shadow.Length, SkBuffLayout.Size);
        if ((fields & ShadowFields.PacketExtent) != 0)
        {
            Put(shadow, SkBuffLayout.Len, (uint)packet.Length);
            Put(shadow, SkBuffLayout.Data, data);
            Put(shadow, SkBuffLayout.DataEnd, dataEnd);
            Put(shadow, SkBuffLayout.DataMeta, data);
        }
        if ((fields & ShadowFields.PacketMeta) != 0)
        {
            Put(shadow, SkBuffLayout.PktType, packet.PacketType);
            Put(shadow, SkBuffLayout.Protocol, BinaryPrimitives.ReverseEndianness(packet.Protocol));
            Put(shadow, SkBuffLayout.VlanPresent, packet.VlanPresent ? 1u : 0u);
            Put(shadow, SkBuffLayout.VlanTci, packet.VlanTci);
            Put(shadow, SkBuffLayout.VlanProto, BinaryPrimitives.ReverseEndianness(packet.VlanProto));
            Put(shadow, SkBuffLayout.Hash, packet.Hash);
        }
    }

    /// <summary>Settles a program's 4-byte store to a 16-bit field at <paramref name="offset"/> (see
    /// <see cref="NarrowStoreResult"/>); <paramref name="previous"/> is the field's value before the store. This is the
    /// path of stores checked at run time (the verifier could not place them at load), which know only the 32 bits
    /// written: queue_mapping compares those unsigned, where the kernel (and the verified stores) compare an
    /// immediate signed and a register by all 64 bits (README, the __sk_buff table).</summary>
    public static void SettleNarrowStore(Span<byte> shadow, int offset, uint previous)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shadow.Length, SkBuffLayout.Size);
        Put(shadow, offset, NarrowStoreResult(offset, previous, Get(shadow, offset)));
    }

    /// <summary>The 32-bit field at <paramref name="offset"/>.</summary>
    public static uint Read(ReadOnlySpan<byte> shadow, int offset)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shadow.Length, SkBuffLayout.Size);
        return Get(shadow, offset);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteBack(ReadOnlySpan<byte> shadow, ref PacketContext packet)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shadow.Length, SkBuffLayout.Size);
        packet.Mark = Get(shadow, SkBuffLayout.Mark);
        packet.QueueMapping = (ushort)Get(shadow, SkBuffLayout.QueueMapping);
        packet.Priority = Get(shadow, SkBuffLayout.Priority);
        packet.TcIndex = (ushort)Get(shadow, SkBuffLayout.TcIndex);
        packet.TcClassId = (ushort)Get(shadow, SkBuffLayout.TcClassId);
        for (int i = 0; i < SkBuffLayout.CbCount; i++) packet.Cb[i] = Get(shadow, SkBuffLayout.Cb + 4 * i);
        packet.Tstamp = BinaryPrimitives.ReadUInt64LittleEndian(shadow[SkBuffLayout.Tstamp..]);
    }

    // The shadow is always SkBuffLayout.Size bytes (checked by the callers' spans): unchecked little-endian access.
    private static void Put(Span<byte> shadow, int offset, uint value) =>
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref MemoryMarshal.GetReference(shadow), offset), BitConverter.IsLittleEndian ? value : BinaryPrimitives.ReverseEndianness(value));

    private static uint Get(ReadOnlySpan<byte> shadow, int offset)
    {
        uint value = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref MemoryMarshal.GetReference(shadow), offset));
        return BitConverter.IsLittleEndian ? value : BinaryPrimitives.ReverseEndianness(value);
    }
}
