using System.Runtime.CompilerServices;

namespace Appliance.Datapath.Forwarding;

/// <summary>Counters of one pair side (its transmit direction, as netkit counts them on the sending device):
/// frames that entered the side, frames it delivered, and drops by <see cref="PairDropReason"/>.</summary>
public sealed class SideCounters
{
    private const int PacketsIn = 0, BytesIn = 1, PacketsOut = 2, BytesOut = 3, FirstDrop = 4;
    public static readonly int ReasonCount = Enum.GetValues<PairDropReason>().Length;

    private readonly WorkerCounters _c = new(FirstDrop + ReasonCount);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void In(int worker, int bytes)
    {
        ref long v = ref _c.FieldsOf(worker);
        Unsafe.Add(ref v, PacketsIn)++;
        Unsafe.Add(ref v, BytesIn) += bytes;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Out(int worker, int bytes)
    {
        ref long v = ref _c.FieldsOf(worker);
        Unsafe.Add(ref v, PacketsOut)++;
        Unsafe.Add(ref v, BytesOut) += bytes;
    }

    internal void Drop(int worker, PairDropReason reason) => _c.Add(worker, FirstDrop + (int)reason, 1);

    /// <summary>A frame the side passed (<see cref="Out"/>) that was not delivered after all (dropped after the chain):
    /// it leaves the side's out count, so what entered a side is what it delivered plus what it dropped.</summary>
    internal void NotDelivered(int worker, int bytes, PairDropReason reason)
    {
        var v = _c.Of(worker);
        v[PacketsOut]--;
        v[BytesOut] -= bytes;
        v[FirstDrop + (int)reason]++;
    }

    public long RxPackets => _c.Read(PacketsIn);
    public long RxBytes => _c.Read(BytesIn);
    public long TxPackets => _c.Read(PacketsOut);
    public long TxBytes => _c.Read(BytesOut);
    public long Drops(PairDropReason reason) => _c.Read(FirstDrop + (int)reason);

    /// <summary>netkit's tx_dropped: every drop of this side.</summary>
    public long TxDropped
    {
        get
        {
            long n = 0;
            for (int r = 0; r < ReasonCount; r++) n += _c.Read(FirstDrop + r);
            return n;
        }
    }
}
