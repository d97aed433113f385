using Appliance.Datapath.Engine;
using Appliance.Datapath.Runtime;
using Appliance.Datapath.Forwarding;

namespace Appliance.Datapath.Capture;

/// <summary>One captured frame's facts in the ring (its bytes are in the ring's data area).</summary>
public struct CaptureSlot
{
    public long Timestamp;
    public int Point;
    public PacketDirection Direction;
    public int Length;
    public int OriginalLength;
    public FrameVerdict Verdict;
    public FrameDecision Decision;
}

/// <summary>A bounded single-producer single-consumer ring of captured frames, allocated once: the forwarding worker
/// copies a frame into the next free slot and publishes it; the capture's reader takes slots in order. When the
/// reader falls behind the worker does not wait: the frame is counted in <see cref="Dropped"/>.</summary>
public sealed class CaptureRing
{
    private readonly CaptureSlot[] _slots;
    private readonly byte[] _data;
    private long _head, _tail, _dropped;

    public CaptureRing(int slots, int snapLength)
    {
        if (slots <= 0 || (slots & (slots - 1)) != 0) throw new ArgumentOutOfRangeException(nameof(slots), "a power of two");
        _slots = new CaptureSlot[slots];
        SnapLength = snapLength;
        _data = new byte[(long)slots * snapLength];
    }

    public int SnapLength { get; }
    public int Capacity => _slots.Length;
    /// <summary>Frames that matched but found the ring full.</summary>
    public long Dropped => Volatile.Read(ref _dropped);

    // ---- producer (the forwarding worker) ----

    /// <summary>The next position to fill (private to the producer until <see cref="Publish"/>).</summary>
    internal long Head => _head;

    /// <summary>True when position <paramref name="at"/> (at or after <see cref="Head"/>) is free.</summary>
    internal bool HasRoom(long at) => at - Volatile.Read(ref _tail) < _slots.Length;

    internal void CountDrop() => _dropped++;

    /// <summary>Copies up to the snap length of <paramref name="frame"/> into slot <paramref name="at"/>.</summary>
    internal int Copy(long at, ReadOnlySpan<byte> frame)
    {
        int n = Math.Min(frame.Length, SnapLength);
        frame[..n].CopyTo(_data.AsSpan((int)(at & (_slots.Length - 1)) * SnapLength, n));
        return n;
    }

    internal ReadOnlySpan<byte> Bytes(long at, int length) => _data.AsSpan((int)(at & (_slots.Length - 1)) * SnapLength, length);

    internal ref CaptureSlot Slot(long at) => ref _slots[at & (_slots.Length - 1)];

    /// <summary>Makes every position before <paramref name="next"/> visible to the reader.</summary>
    internal void Publish(long next) => Volatile.Write(ref _head, next);

    /// <summary>Copies slot <paramref name="from"/>'s bytes into slot <paramref name="to"/>.</summary>
    internal void CopySlot(long from, long to, int length) =>
        _data.AsSpan((int)(from & (_slots.Length - 1)) * SnapLength, length).CopyTo(_data.AsSpan((int)(to & (_slots.Length - 1)) * SnapLength));

    // ---- consumer ----

    /// <summary>Hands the published slots in order to <paramref name="take"/>, at most <paramref name="max"/>; returns how many.</summary>
    public int Drain(int max, SlotReader take)
    {
        long tail = _tail, head = Volatile.Read(ref _head);
        int n = 0;
        for (; tail < head && n < max; tail++, n++)
        {
            ref var slot = ref _slots[tail & (_slots.Length - 1)];
            take(in slot, Bytes(tail, slot.Length));
        }
        Volatile.Write(ref _tail, tail);
        return n;
    }

    public delegate void SlotReader(in CaptureSlot slot, ReadOnlySpan<byte> data);
}
