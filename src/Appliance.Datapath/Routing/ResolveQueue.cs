namespace Appliance.Datapath.Routing;

/// <summary>Neighbours the forwarding workers want resolved, handed to the table thread (which asks the kernel):
/// a bounded lock-free queue (Vyukov's bounded MPMC ring) that any number of workers enqueue into without a lock,
/// an allocation or a syscall. When it is full the request is dropped and counted (the next frame to that neighbour
/// asks again).</summary>
public sealed class ResolveQueue
{
    private struct Slot
    {
        public long Sequence;
        public NeighbourKey Key;
    }

    private readonly Slot[] _slots;
    private readonly int _mask;
    private long _enqueue, _dequeue, _dropped;

    /// <param name="capacity">Rounded up to a power of two.</param>
    public ResolveQueue(int capacity = 256)
    {
        int size = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(2, capacity));
        _slots = new Slot[size];
        _mask = size - 1;
        for (int i = 0; i < size; i++) _slots[i].Sequence = i;
    }

    /// <summary>Requests dropped because the queue was full.</summary>
    public long Dropped => Volatile.Read(ref _dropped);

    /// <summary>Adds a request (any thread); false (counted) when the queue is full.</summary>
    public bool TryEnqueue(in NeighbourKey key)
    {
        long pos = Volatile.Read(ref _enqueue);
        while (true)
        {
            ref var slot = ref _slots[pos & _mask];
            long seq = Volatile.Read(ref slot.Sequence);
            long diff = seq - pos;
            if (diff == 0)
            {
                long seen = Interlocked.CompareExchange(ref _enqueue, pos + 1, pos);
                if (seen == pos)
                {
                    slot.Key = key;
                    Volatile.Write(ref slot.Sequence, pos + 1);
                    return true;
                }
                pos = seen;
            }
            else if (diff < 0)
            {
                Interlocked.Increment(ref _dropped);
                return false;
            }
            else pos = Volatile.Read(ref _enqueue);
        }
    }

    /// <summary>Takes the oldest request (any thread); false when empty.</summary>
    public bool TryDequeue(out NeighbourKey key)
    {
        long pos = Volatile.Read(ref _dequeue);
        while (true)
        {
            ref var slot = ref _slots[pos & _mask];
            long seq = Volatile.Read(ref slot.Sequence);
            long diff = seq - (pos + 1);
            if (diff == 0)
            {
                long seen = Interlocked.CompareExchange(ref _dequeue, pos + 1, pos);
                if (seen == pos)
                {
                    key = slot.Key;
                    Volatile.Write(ref slot.Sequence, pos + _mask + 1);
                    return true;
                }
                pos = seen;
            }
            else if (diff < 0)
            {
                key = default;
                return false;
            }
            else pos = Volatile.Read(ref _dequeue);
        }
    }
}
