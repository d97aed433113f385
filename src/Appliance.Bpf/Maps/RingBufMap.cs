using System.Buffers.Binary;
using Appliance.Bpf.Helpers;

namespace Appliance.Bpf.Maps;

/// <summary>BPF_MAP_TYPE_RINGBUF: a multi-producer, single-consumer byte ring of max_entries bytes (a
/// power of two, a multiple of 4096, as the kernel requires). Records are laid out as the kernel's: an
/// 8-byte header (u32 length with BUSY bit 31 and DISCARD bit 30, u32 reserved) and the data padded to 8.
/// Programs reserve/submit/discard (or output = reserve + copy + submit); the host consumes in order with
/// <see cref="Consume"/>, stopping at a record still being written. The kernel maps the data twice so a
/// record may wrap; a managed array cannot, so a record that would wrap is preceded by a discarded
/// padding record up to the end of the ring (it costs that space until consumed). Producers serialise on
/// a lock (the kernel's spinlock); the consumer side is lock-free.</summary>
public sealed class RingBufMap : KeylessMap, IBpfRingBuffer
{
    public const int HeaderSize = 8;
    public const uint BusyBit = 1u << 31, DiscardBit = 1u << 30;

    private readonly byte[] _data;
    private readonly Lock _producer = new();
    private long _producerPos;
    private long _consumerPos;

    public RingBufMap(BpfMapDefinition definition) : base(definition) => _data = new byte[definition.MaxEntries];

    /// <summary>Bytes between the consumer and the producer (records not yet consumed, headers included).</summary>
    public long PendingBytes => ProducerPosition - ConsumerPosition;

    public int Size => _data.Length;
    public long ProducerPosition => Volatile.Read(ref _producerPos);
    public long ConsumerPosition => Volatile.Read(ref _consumerPos);

    /// <summary>bpf_ringbuf_reserve: room for <paramref name="size"/> bytes, handed out in place; false when
    /// the ring has no room (the helper then returns NULL).</summary>
    public bool TryReserve(int size, out ArraySegment<byte> sample)
    {
        sample = default;
        if (size < 0 || size > _data.Length - HeaderSize) return false;
        int total = HeaderSize + ((size + 7) & ~7);
        lock (_producer)
        {
            long prod = _producerPos, cons = Volatile.Read(ref _consumerPos);
            int at = (int)(prod & (_data.Length - 1));
            int pad = at + total > _data.Length ? _data.Length - at : 0;
            if (prod + pad + total - cons > _data.Length) return false;
            if (pad > 0)
            {
                WriteHeader(at, (uint)(pad - HeaderSize) | DiscardBit);
                at = 0;
            }
            WriteHeader(at, (uint)size | BusyBit);
            Volatile.Write(ref _producerPos, prod + pad + total);
            sample = new ArraySegment<byte>(_data, at + HeaderSize, size);
            return true;
        }
    }

    /// <summary>bpf_ringbuf_submit / bpf_ringbuf_discard for the sample whose data starts at
    /// <paramref name="sampleOffset"/> in the ring (the ArraySegment.Offset that <see cref="TryReserve"/>
    /// gave). Returns 0, or -EINVAL when no reserved record starts there.</summary>
    public int Commit(int sampleOffset, bool discard)
    {
        int at = sampleOffset - HeaderSize;
        if (at < 0 || sampleOffset > _data.Length || (at & 7) != 0) return -Errno.EINVAL;
        uint header = Volatile.Read(ref HeaderRef(at));
        if ((header & BusyBit) == 0) return -Errno.EINVAL;
        uint len = header & ~(BusyBit | DiscardBit);
        Volatile.Write(ref HeaderRef(at), discard ? len | DiscardBit : len);
        return 0;
    }

    /// <summary>bpf_ringbuf_output: copies <paramref name="data"/> as one record; 0 or -EAGAIN when full.</summary>
    public int Output(ReadOnlySpan<byte> data)
    {
        if (!TryReserve(data.Length, out var sample)) return -Errno.EAGAIN;
        data.CopyTo(sample);
        return Commit(sample.Offset, discard: false);
    }

    /// <summary>Hands submitted records to <paramref name="handler"/> in order, skipping discarded ones,
    /// and frees their space; stops at a record still reserved. Returns the number of records handled.
    /// One consumer at a time.</summary>
    public int Consume(RingBufRecordHandler handler, int maxRecords = int.MaxValue)
    {
        int handled = 0;
        long cons = Volatile.Read(ref _consumerPos);
        while (handled < maxRecords && cons < Volatile.Read(ref _producerPos))
        {
            int at = (int)(cons & (_data.Length - 1));
            uint header = Volatile.Read(ref HeaderRef(at));
            if ((header & BusyBit) != 0) break;
            int len = (int)(header & ~(BusyBit | DiscardBit));
            if ((header & DiscardBit) == 0)
            {
                handler(_data.AsSpan(at + HeaderSize, len));
                handled++;
            }
            cons += HeaderSize + ((len + 7) & ~7);
            Volatile.Write(ref _consumerPos, cons);
        }
        return handled;
    }

    private void WriteHeader(int at, uint lengthAndBits)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_data.AsSpan(at + 4), 0);
        Volatile.Write(ref HeaderRef(at), lengthAndBits);
    }

    private ref uint HeaderRef(int at) =>
        ref System.Runtime.CompilerServices.Unsafe.As<byte, uint>(ref _data[at]);
}
