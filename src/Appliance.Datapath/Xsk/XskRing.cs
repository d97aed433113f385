using System.Runtime.CompilerServices;
using Appliance.Interop;

namespace Appliance.Datapath.Xsk;

/// <summary>One single-producer/single-consumer AF_XDP ring over its mmapped memory (afxdp.md §5).
/// Indices are free-running u32. The other side's index is read with an acquire load
/// (<see cref="Volatile.Read(ref uint)"/>), our own published with a release store, which is what the
/// kernel's contract needs on arm64 as well as x86. Cached indices avoid touching the shared cache line
/// per entry. We are producer of FILL and TX, consumer of RX and COMPLETION.</summary>
public unsafe struct XskRing
{
    private uint* _producer;
    private uint* _consumer;
    private uint* _flags;
    private byte* _entries;
    private uint _mask;
    private uint _size;
    private uint _cachedProd;
    private uint _cachedCons;

    public readonly uint Size => _size;

    /// <summary>Binds the ring to its mapping; <paramref name="asProducer"/> selects the cached-index start.</summary>
    public static XskRing Over(byte* map, in XdpRingOffset off, uint size, bool asProducer)
    {
        var r = new XskRing
        {
            _producer = (uint*)(map + off.Producer),
            _consumer = (uint*)(map + off.Consumer),
            _flags = (uint*)(map + off.Flags),
            _entries = map + off.Desc,
            _size = size,
            _mask = size - 1,
        };
        r._cachedProd = Volatile.Read(ref *r._producer);
        // A producer keeps cached_cons `size` ahead, so free = cached_cons - cached_prod.
        r._cachedCons = Volatile.Read(ref *r._consumer) + (asProducer ? size : 0);
        return r;
    }

    // ---- producer side (FILL, TX) ----

    /// <summary>Free slots, refreshing the consumer index only when the cache says fewer than <paramref name="wanted"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Free(uint wanted)
    {
        uint free = _cachedCons - _cachedProd;
        if (free >= wanted) return free;
        _cachedCons = Volatile.Read(ref *_consumer) + _size;
        return _cachedCons - _cachedProd;
    }

    /// <summary>Reserves up to <paramref name="count"/> slots; returns how many and the first index.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Reserve(uint count, out uint index)
    {
        uint free = Free(count);
        if (count > free) count = free;
        index = _cachedProd;
        _cachedProd += count;
        return count;
    }

    /// <summary>Publishes <paramref name="count"/> written entries (store-release of the producer index).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Submit(uint count) => Volatile.Write(ref *_producer, *_producer + count);

    /// <summary>True when the kernel asks for a sendto()/recvfrom()/poll() (XDP_RING_NEED_WAKEUP).</summary>
    public readonly bool NeedsWakeup
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => (Volatile.Read(ref *_flags) & XskConstants.RingNeedWakeup) != 0;
    }

    /// <summary>Entries we produced that the kernel has not consumed yet (acquire load of its index).</summary>
    public readonly uint Outstanding
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => *_producer - Volatile.Read(ref *_consumer);
    }

    // ---- consumer side (RX, COMPLETION) ----

    /// <summary>Takes up to <paramref name="max"/> available entries; returns how many and the first index.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Peek(uint max, out uint index)
    {
        uint avail = _cachedProd - _cachedCons;
        if (avail == 0)
        {
            _cachedProd = Volatile.Read(ref *_producer);
            avail = _cachedProd - _cachedCons;
        }
        if (avail > max) avail = max;
        index = _cachedCons;
        _cachedCons += avail;
        return avail;
    }

    /// <summary>Hands <paramref name="count"/> read entries back (store-release of the consumer index).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Release(uint count) => Volatile.Write(ref *_consumer, *_consumer + count);

    // ---- entries ----

    /// <summary>The RX/TX descriptor at free-running index <paramref name="index"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly ref XdpDesc Desc(uint index) => ref ((XdpDesc*)_entries)[index & _mask];

    /// <summary>The FILL/COMPLETION address at free-running index <paramref name="index"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly ref ulong Addr(uint index) => ref ((ulong*)_entries)[index & _mask];

    /// <summary>Producer and consumer indices as the kernel sees them (diagnostics and accounting).</summary>
    public readonly (uint Producer, uint Consumer) Indices => (Volatile.Read(ref *_producer), Volatile.Read(ref *_consumer));
}
