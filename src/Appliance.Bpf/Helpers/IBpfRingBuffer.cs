namespace Appliance.Bpf.Helpers;

/// <summary>What the ring-buffer helpers (130–133) need from a <c>BPF_MAP_TYPE_RINGBUF</c> map (the shape of
/// <c>Maps.RingBufMap</c>). Records are committed in place: <see cref="TryReserve"/> hands out the record's
/// storage, the program writes it, <see cref="Commit"/> publishes or discards it (identified by the sample's
/// offset in its array).</summary>
public interface IBpfRingBuffer
{
    /// <summary>Copies <paramref name="data"/> as one record. Returns 0 or -errno when full.</summary>
    int Output(ReadOnlySpan<byte> data);

    /// <summary>Reserves <paramref name="size"/> bytes; false when full.</summary>
    bool TryReserve(int size, out ArraySegment<byte> sample);

    /// <summary>Submits (or discards) the reservation whose data starts at <paramref name="sampleOffset"/>.</summary>
    int Commit(int sampleOffset, bool discard);

    /// <summary>The data area's size in bytes (max_entries).</summary>
    int Size { get; }

    /// <summary>Bytes ever reserved (headers and padding included), the kernel's producer_pos.</summary>
    long ProducerPosition { get; }

    /// <summary>Bytes ever consumed, the kernel's consumer_pos.</summary>
    long ConsumerPosition { get; }
}
