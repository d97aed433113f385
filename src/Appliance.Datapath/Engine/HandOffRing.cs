using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Appliance.Datapath.Engine;

/// <summary>The one way a frame crosses workers: a bounded single-producer/single-consumer ring of frame copies from
/// worker <see cref="From"/> to worker <see cref="To"/> (one per ingress port of the sender, so the owner serves the
/// sources in turn), used when the target interface has no socket on the
/// sender's queue (it has fewer queues than there are workers; its sockets belong to workers 0..q−1). The sender
/// copies the frame into a slot (its UMEM frame goes straight back to its own free stack: no UMEM is touched by two
/// threads), the owner copies it into its own UMEM and transmits it on its socket of the target. A flow always
/// hands off to the same owner through the same ring, so its frames stay in order. Full: the sender drops the
/// frame (counted as RingFull on the ingress port). Memory: <see cref="Slots"/> × the frame size, allocated when
/// the route first exists (between batches), never per frame.</summary>
internal sealed unsafe class HandOffRing : IDisposable
{
    public const int Slots = 256;

    [StructLayout(LayoutKind.Sequential)]
    private struct Meta
    {
        public int Target, Offset, Length;
    }

    private readonly byte* _data;
    private readonly Meta* _meta;
    private readonly uint _slotSize;
    // Producer and consumer positions on their own cache lines.
    private PaddedLong _head, _tail;

    public int From { get; }
    public int To { get; }
    /// <summary>Frames handed over so far (producer side), and frames the owner took (consumer side).</summary>
    public long Pushed => Volatile.Read(ref _head.Value);
    public long Taken => Volatile.Read(ref _tail.Value);

    public HandOffRing(int from, int to, uint slotSize)
    {
        From = from;
        To = to;
        _slotSize = slotSize;
        _data = (byte*)NativeMemory.AlignedAlloc((nuint)Slots * slotSize, 64);
        _meta = (Meta*)NativeMemory.AllocZeroed(Slots, (nuint)sizeof(Meta));
    }

    /// <summary>Producer: copies <paramref name="length"/> bytes at <paramref name="data"/> (at <paramref name="offset"/>
    /// in its frame) for engine port <paramref name="target"/>. False when the ring is full.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryPush(int target, byte* data, int offset, int length)
    {
        long head = _head.Value;
        if (head - Volatile.Read(ref _tail.Value) >= Slots || (uint)(offset + length) > _slotSize) return false;
        int i = (int)(head & (Slots - 1));
        Buffer.MemoryCopy(data, _data + (long)i * _slotSize + offset, length, length);
        _meta[i] = new Meta { Target = target, Offset = offset, Length = length };
        Volatile.Write(ref _head.Value, head + 1);
        return true;
    }

    /// <summary>Consumer: frames waiting (a snapshot).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Available(out long tail)
    {
        tail = _tail.Value;
        return (int)(Volatile.Read(ref _head.Value) - tail);
    }

    /// <summary>Consumer: the frame at position <paramref name="at"/> (from <see cref="Available"/>'s tail onwards).</summary>
    public byte* Frame(long at, out int target, out int offset, out int length)
    {
        int i = (int)(at & (Slots - 1));
        ref var m = ref _meta[i];
        target = m.Target;
        offset = m.Offset;
        length = m.Length;
        return _data + (long)i * _slotSize + offset;
    }

    /// <summary>Consumer: gives <paramref name="count"/> slots back to the producer.</summary>
    public void Release(long tail, int count) => Volatile.Write(ref _tail.Value, tail + count);

    public void Dispose()
    {
        NativeMemory.AlignedFree(_data);
        NativeMemory.Free(_meta);
    }

    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct PaddedLong
    {
        [FieldOffset(64)] public long Value;
    }
}
