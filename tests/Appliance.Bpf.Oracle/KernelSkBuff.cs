using System.Buffers.Binary;

namespace Appliance.Bpf.Oracle;

/// <summary>A `struct __sk_buff` (192 bytes, reference/ebpf.md §4.1) as BPF_PROG_TEST_RUN accepts it for
/// SCHED_CLS: only mark, priority, ingress_ifindex, ifindex, cb[], tstamp, wire_len, gso_* and hwtstamp
/// may be non-zero; the kernel fills len, protocol, data, data_end itself. ifindex 1 (loopback) exists in
/// every namespace.</summary>
public static class KernelSkBuff
{
    public const int Size = 192;
    public const int Mark = 8, Priority = 32, IngressIfindex = 36, Ifindex = 40, Cb = 48;

    public static byte[] Create(uint mark = 0, uint priority = 0, uint ifindex = 1, ReadOnlySpan<uint> cb = default)
    {
        var skb = new byte[Size];
        BinaryPrimitives.WriteUInt32LittleEndian(skb.AsSpan(Mark), mark);
        BinaryPrimitives.WriteUInt32LittleEndian(skb.AsSpan(Priority), priority);
        BinaryPrimitives.WriteUInt32LittleEndian(skb.AsSpan(Ifindex), ifindex);
        for (int i = 0; i < cb.Length && i < 5; i++)
            BinaryPrimitives.WriteUInt32LittleEndian(skb.AsSpan(Cb + 4 * i), cb[i]);
        return skb;
    }

    public static uint Read(byte[] skb, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(skb.AsSpan(offset));
}
