using System.Buffers.Binary;

namespace Appliance.Bpf.Oracle;

/// <summary>A `struct __sk_buff` (192 bytes, reference/ebpf.md §4.1) as BPF_PROG_TEST_RUN accepts it for
/// SCHED_CLS: only mark, priority, ingress_ifindex, ifindex, cb[], tstamp, wire_len, gso_* and hwtstamp
/// may be non-zero; the kernel fills len, protocol, data, data_end itself. ifindex 1 (loopback) exists in
/// every namespace.</summary>
public static class KernelSkBuff
{
    public const int Size = 192;
    public const int Mark = 8, Priority = 32, IngressIfindex = 36, Ifindex = 40, Cb = 48, Tstamp = 152, WireLen = 160;

    public static byte[] Create(uint mark = 0, uint priority = 0, uint ifindex = 1, ReadOnlySpan<uint> cb = default,
        uint ingressIfindex = 0, ulong tstamp = 0)
    {
        var skb = new byte[Size];
        BinaryPrimitives.WriteUInt32LittleEndian(skb.AsSpan(IngressIfindex), ingressIfindex);
        BinaryPrimitives.WriteUInt64LittleEndian(skb.AsSpan(Tstamp), tstamp);
        BinaryPrimitives.WriteUInt32LittleEndian(skb.AsSpan(Mark), mark);
        BinaryPrimitives.WriteUInt32LittleEndian(skb.AsSpan(Priority), priority);
        BinaryPrimitives.WriteUInt32LittleEndian(skb.AsSpan(Ifindex), ifindex);
        for (int i = 0; i < cb.Length && i < 5; i++)
            BinaryPrimitives.WriteUInt32LittleEndian(skb.AsSpan(Cb + 4 * i), cb[i]);
        return skb;
    }

    public static uint Read(byte[] skb, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(skb.AsSpan(offset));

    public static ulong Read64(byte[] skb, int offset) => BinaryPrimitives.ReadUInt64LittleEndian(skb.AsSpan(offset));

    /// <summary>The context the kernel's test run hands back (convert_skb_to___skb): the input with mark,
    /// priority, ingress_ifindex, ifindex, tstamp, cb[], wire_len, gso_segs and hwtstamp replaced by the
    /// skb's values after the run.</summary>
    public static byte[] AfterRun(byte[] input, uint mark, uint priority, uint ingressIfindex, uint ifindex, ulong tstamp,
        ReadOnlySpan<uint> cb, uint wireLen)
    {
        var skb = (byte[])input.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(skb.AsSpan(Mark), mark);
        BinaryPrimitives.WriteUInt32LittleEndian(skb.AsSpan(Priority), priority);
        BinaryPrimitives.WriteUInt32LittleEndian(skb.AsSpan(IngressIfindex), ingressIfindex);
        BinaryPrimitives.WriteUInt32LittleEndian(skb.AsSpan(Ifindex), ifindex);
        BinaryPrimitives.WriteUInt64LittleEndian(skb.AsSpan(Tstamp), tstamp);
        for (int i = 0; i < 5; i++) BinaryPrimitives.WriteUInt32LittleEndian(skb.AsSpan(Cb + 4 * i), cb[i]);
        BinaryPrimitives.WriteUInt32LittleEndian(skb.AsSpan(WireLen), wireLen);
        return skb;
    }

    /// <summary>pkt_type as eth_type_trans sets it on the test run's device (loopback, address 00:00:00:00:00:00):
    /// to the device's address 0 (host), multicast 2, anything else 3 (other host). Loopback has no broadcast address
    /// (all zeros), so ff:ff:ff:ff:ff:ff is multicast there too, never broadcast (1).</summary>
    public static uint PacketType(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < 6) return 0;
        if ((frame[0] & 1) != 0) return 2;
        return frame[..6].IndexOfAnyExcept((byte)0) < 0 ? 0u : 3u;
    }
}
