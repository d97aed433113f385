using System.Buffers.Binary;

namespace Appliance.Bpf.Helpers;

/// <summary>The kernel's ones'-complement checksum primitives (include/net/checksum.h, lib/checksum.c) on a
/// little-endian host, bit for bit: <c>csum_partial</c>, <c>csum_add</c>/<c>csum_sub</c>, <c>csum_fold</c>,
/// <c>csum_from32to16</c>, <c>csum16_add</c>/<c>csum16_sub</c> and the <c>csum_replace*</c> family. Values are
/// the raw in-memory (network order) words read as host integers, exactly as the kernel handles them.</summary>
public static class InternetChecksum
{
    public static uint Partial(ReadOnlySpan<byte> data, uint seed)
    {
        ulong sum = seed;
        int i = 0;
        for (; i + 4 <= data.Length; i += 4) sum += BinaryPrimitives.ReadUInt32LittleEndian(data[i..]);
        if (i + 2 <= data.Length) { sum += BinaryPrimitives.ReadUInt16LittleEndian(data[i..]); i += 2; }
        if (i < data.Length) sum += data[i];
        sum = (sum & 0xffff_ffff) + (sum >> 32);
        sum = (sum & 0xffff_ffff) + (sum >> 32);
        return (uint)sum;
    }

    public static uint Add(uint a, uint b)
    {
        uint r = unchecked(a + b);
        return r + (r < b ? 1u : 0u);
    }

    public static uint Sub(uint a, uint b) => Add(a, ~b);

    /// <summary>Folds to 16 bits and complements (<c>csum_fold</c>).</summary>
    public static ushort Fold(uint sum)
    {
        sum = unchecked(sum + ((sum >> 16) | (sum << 16)));
        return (ushort)~(sum >> 16);
    }

    /// <summary>Folds to 16 bits without complementing (<c>csum_from32to16</c>).</summary>
    public static ushort From32To16(uint sum)
    {
        sum = unchecked(sum + ((sum >> 16) | (sum << 16)));
        return (ushort)(sum >> 16);
    }

    public static ushort Add16(ushort csum, ushort addend)
    {
        ushort r = unchecked((ushort)(csum + addend));
        return unchecked((ushort)(r + (r < addend ? 1 : 0)));
    }

    public static ushort Sub16(ushort csum, ushort addend) => Add16(csum, (ushort)~addend);

    /// <summary><c>csum_replace2</c>: *sum = ~csum16_add(csum16_sub(~*sum, old), new).</summary>
    public static ushort Replace2(ushort sum, ushort from, ushort to) => (ushort)~Add16(Sub16((ushort)~sum, from), to);

    /// <summary><c>csum_replace4</c> (and <c>inet_proto_csum_replace4</c> without CHECKSUM_PARTIAL).</summary>
    public static ushort Replace4(ushort sum, uint from, uint to) => Fold(Add(Sub(~(uint)sum, from), to));

    /// <summary><c>csum_replace_by_diff</c>: *sum = csum_fold(csum_add(diff, ~csum_unfold(*sum))).</summary>
    public static ushort ReplaceByDiff(ushort sum, uint diff) => Fold(Add(diff, ~(uint)sum));
}
