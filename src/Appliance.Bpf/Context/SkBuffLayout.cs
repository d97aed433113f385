namespace Appliance.Bpf.Context;

/// <summary>Offsets of <c>struct __sk_buff</c> (tc layout, sizeof 192; include/uapi/linux/bpf.h) and the
/// fields a tc program may write: <c>mark</c>, <c>queue_mapping</c>, <c>priority</c>, <c>tc_index</c>,
/// <c>cb[0..4]</c> and <c>tstamp</c>. Everything else is read-only; a store to it faults the run.</summary>
public static class SkBuffLayout
{
    public const int Size = 192;
    public const int Len = 0, PktType = 4, Mark = 8, QueueMapping = 12, Protocol = 16, VlanPresent = 20, VlanTci = 24,
        VlanProto = 28, Priority = 32, IngressIfindex = 36, Ifindex = 40, TcIndex = 44, Cb = 48, CbCount = 5,
        Hash = 68, TcClassId = 72, Data = 76, DataEnd = 80, NapiId = 84, Family = 88, DataMeta = 140,
        FlowKeys = 144, Tstamp = 152, WireLen = 160, GsoSegs = 164, Sk = 168, GsoSize = 176, TstampType = 180,
        HwTstamp = 184;

    /// <summary>True when the store of <paramref name="size"/> bytes at <paramref name="offset"/> lies inside one
    /// writable field.</summary>
    public static bool IsWritable(ulong offset, int size)
    {
        ulong end = offset + (ulong)size;
        return Inside(offset, end, Mark, 4) || Inside(offset, end, QueueMapping, 4) || Inside(offset, end, Priority, 4)
            || Inside(offset, end, TcIndex, 4) || Inside(offset, end, Cb, 4 * CbCount) || Inside(offset, end, Tstamp, 8);
    }

    private static bool Inside(ulong start, ulong end, int fieldOffset, int fieldSize) =>
        start >= (ulong)fieldOffset && end <= (ulong)(fieldOffset + fieldSize);
}
