namespace Appliance.Bpf.Maps;

/// <summary>The key index of the hash-family maps: <c>capacity</c> slots, chained buckets of slot numbers, a bump
/// pointer past the slots ever taken and a free list of those given back — no allocation after construction. Its
/// empty state is all zero bytes: bucket heads and chain links hold slot + 1 (0: none), so the index lives on
/// <see cref="MapStorage"/> taken whole (preallocated) or reserved (BPF_F_NO_PREALLOC: the pages of the slots a map
/// never used take no memory). Callers keep the values (by slot number) and hold the write side of a
/// <see cref="MapSeqLock"/> while inserting or removing. Lookups tolerate concurrent changes (chain walks are bounded),
/// the seqlock makes them retry. The storage does not move: code the JIT compiled walks the same chains at their host
/// addresses (see <see cref="Jit.InlineMap"/>).
/// A removed slot is free at once (the kernel's preallocated hash maps), or, with <c>spare</c> slots, only after a
/// grace period (<see cref="RunEpochs"/>; the kernel's LPM trie frees after an RCU grace period): it waits in a
/// FIFO until every program run that may hold it has ended, and the spare slots (beyond the <c>limit</c> of live
/// keys) serve inserts meanwhile. An insert never issues the process-wide barrier a grace period needs (it may be a
/// program's, on the packet path): it takes back only slots an issued barrier covers, and once no more slots are free
/// than half the spare ones it asks the grace-period thread for one (<see cref="RunEpochs.Request"/>).</summary>
internal sealed unsafe class HashSlots
{
    private const int None = -1;

    private readonly int _keySize;
    // The storages, held for the index's life (a reserved one is unmapped when collected), and their addresses.
    private readonly MapStorage _keyStorage, _bucketStorage, _nextStorage, _hashStorage, _usedStorage;
    private readonly byte* _keys;
    private readonly int* _buckets; // slot + 1 of the chain's first slot, 0: none
    private readonly int* _next;    // slot + 1 of the next slot in the chain (or the free or pending list), 0: none
    private readonly int* _hashes;
    private readonly byte* _used;
    private readonly int _bucketMask;
    /// <summary>Slots ever taken: those from here on were never used (their pages untouched in a reserved index).</summary>
    private int _highWater;
    private int _free = None;
    private int _freeCount;
    /// <summary>Per slot, the epoch its grace period ends at (deferred reuse only); null for immediate reuse.</summary>
    private readonly long[]? _freedAt;
    private int _pendingHead = None, _pendingTail = None;
    /// <summary><see cref="RunEpochs.Fenced"/> when pending slots were last taken back: another is worth a look only
    /// after a newer barrier (or when no slot is free).</summary>
    private long _reclaimedThrough;

    /// <param name="limit">Live keys at most (max_entries).</param>
    /// <param name="spare">Slots beyond <paramref name="limit"/>; more than 0 defers the reuse of removed slots.</param>
    /// <param name="reserve">On reserved storage (BPF_F_NO_PREALLOC) rather than preallocated.</param>
    public HashSlots(int keySize, int limit, int spare = 0, bool reserve = false)
    {
        int capacity = checked(limit + spare);
        _keySize = keySize;
        Capacity = capacity;
        Limit = limit;
        if (spare > 0)
        {
            _freedAt = new long[capacity];
            RunEpochs.StartGracePeriods();
        }
        long buckets = Buckets(capacity);
        _bucketMask = (int)(buckets - 1);
        MapStorage Take(long bytes) => reserve ? MapStorage.Reserve(bytes) : MapStorage.Preallocate(bytes);
        _keyStorage = Take((long)keySize * capacity);
        _bucketStorage = Take(buckets * sizeof(int));
        _nextStorage = Take((long)capacity * sizeof(int));
        _hashStorage = Take((long)capacity * sizeof(int));
        _usedStorage = Take(capacity);
        _keys = _keyStorage.Address;
        _buckets = (int*)_bucketStorage.Address;
        _next = (int*)_nextStorage.Address;
        _hashes = (int*)_hashStorage.Address;
        _used = _usedStorage.Address;
        _freeCount = capacity;
    }

    /// <summary>Address space the index reserved and holds (0 when preallocated).</summary>
    public long ReservedBytes => _keyStorage.ReservedBytes + _bucketStorage.ReservedBytes + _nextStorage.ReservedBytes
        + _hashStorage.ReservedBytes + _usedStorage.ReservedBytes;

    /// <summary>Unmaps a reserved index (<see cref="MapStorage.Free"/>): nothing may use it afterwards.</summary>
    public void Free()
    {
        _keyStorage.Free();
        _bucketStorage.Free();
        _nextStorage.Free();
        _hashStorage.Free();
        _usedStorage.Free();
    }

    /// <summary>The bucket count for <paramref name="capacity"/> slots: the power of two at or above it.</summary>
    public static long Buckets(int capacity)
    {
        long buckets = 1;
        while (buckets < capacity) buckets <<= 1;
        return buckets;
    }

    /// <summary>Bytes an index of <paramref name="capacity"/> slots takes besides its keys: bucket heads, chain links, hashes, used flags.</summary>
    public static long IndexBytes(int capacity) => Buckets(capacity) * sizeof(int) + (long)capacity * (2 * sizeof(int) + 1);

    /// <summary>Slots (live, free and waiting for their grace period).</summary>
    public int Capacity { get; }
    /// <summary>Live keys at most.</summary>
    public int Limit { get; }
    public int Count { get; private set; }
    /// <summary>Slots an insert can take now (not live, not waiting for a grace period).</summary>
    public int FreeCount => _freeCount;
    public int KeySize => _keySize;

    /// <summary>Buckets - 1 (a power of two minus one): a hash's bucket is hash &amp; mask.</summary>
    public int BucketMask => _bucketMask;

    // Host addresses of the storage (it never moves): keys (KeySize bytes per slot), bucket heads and chain links
    // (int slot numbers + 1, 0 for none), and each slot's hash.
    public nint KeysAddress => (nint)_keys;
    public nint BucketsAddress => (nint)_buckets;
    public nint NextAddress => (nint)_next;
    public nint HashesAddress => (nint)_hashes;

    public ReadOnlySpan<byte> KeyAt(int slot) => KeySpan(slot);
    public bool IsUsed(int slot) => _used[slot] != 0;

    private Span<byte> KeySpan(int slot) => new(_keys + (long)slot * _keySize, _keySize);

    /// <summary>A link's slot (-1 for none) from what it holds (slot + 1).</summary>
    private static int Slot(int link) => link - 1;

    private ref int Bucket(int hash) => ref _buckets[(uint)(hash & _bucketMask)];

    /// <summary>The slot holding <paramref name="key"/>, or -1.</summary>
    public int Find(ReadOnlySpan<byte> key)
    {
        int hash = Hash(key);
        int slot = Slot(Volatile.Read(ref Bucket(hash)));
        for (int steps = 0; slot != None && steps < Capacity; steps++)
        {
            if ((uint)slot >= (uint)Capacity) return None; // torn read during a concurrent change; the seqlock retries
            if (_hashes[slot] == hash && KeySpan(slot).SequenceEqual(key))
                return slot;
            slot = Slot(Volatile.Read(ref _next[slot]));
        }
        return None;
    }

    /// <summary>Takes a free slot for <paramref name="key"/> (which must be absent); -1 when full (<see cref="Limit"/>
    /// keys, or every other slot still in its grace period).</summary>
    public int Insert(ReadOnlySpan<byte> key)
    {
        if (Count >= Limit) return None;
        if (_pendingHead != None) TakeBack();
        int slot = _free;
        if (slot != None) _free = Slot(_next[slot]);
        else if (_highWater < Capacity) slot = _highWater++;
        else return None;
        _freeCount--;
        int hash = Hash(key);
        key.CopyTo(KeySpan(slot));
        _hashes[slot] = hash;
        _used[slot] = 1;
        ref int bucket = ref Bucket(hash);
        _next[slot] = bucket;
        Volatile.Write(ref bucket, slot + 1);
        Count++;
        return slot;
    }

    public void Remove(int slot)
    {
        ref int link = ref Bucket(_hashes[slot]);
        while (Slot(link) != slot)
        {
            if (link == 0) return;
            link = ref _next[Slot(link)];
        }
        Volatile.Write(ref link, _next[slot]);
        _used[slot] = 0;
        Count--;
        if (_freedAt is null)
        {
            _next[slot] = _free + 1;
            _free = slot;
            _freeCount++;
            return;
        }
        // A lookup that began before the unlinking may still hold the slot: it waits for its grace period. (A
        // reader still walking through it follows _next into the pending list: a torn walk its seqlock retries.)
        _freedAt[slot] = RunEpochs.TagForFree();
        _next[slot] = 0;
        if (_pendingTail == None) _pendingHead = slot;
        else _next[_pendingTail] = slot + 1;
        _pendingTail = slot;
    }

    /// <summary>The tag of the slot that has waited longest for its grace period, or 0 when none waits.</summary>
    public long OldestPendingTag => _pendingHead == None ? 0 : _freedAt![_pendingHead];

    /// <summary>Before an insert, with slots waiting: takes back those whose grace period ended, when a barrier came
    /// since the last look or no slot is free; asks for a barrier when no more slots are free than half the spare
    /// ones and the oldest waiting one is not covered yet. No syscall, no wait: a program's insert runs this.</summary>
    private void TakeBack()
    {
        long fenced = RunEpochs.Fenced;
        if (fenced != _reclaimedThrough || _freeCount == 0)
        {
            _reclaimedThrough = fenced;
            Reclaim();
        }
        if (_pendingHead == None) return;
        long oldest = _freedAt![_pendingHead];
        if (oldest > fenced && _freeCount <= (Capacity - Limit) / 2) RunEpochs.Request(oldest);
    }

    /// <summary>Moves the slots whose grace period ended (oldest first) to the free list: those an issued barrier
    /// covers, once no run that began before their deletion goes on.</summary>
    private void Reclaim()
    {
        if (_pendingHead == None) return;
        long safe = RunEpochs.SafeEpoch();
        while (_pendingHead != None && _freedAt![_pendingHead] <= safe)
        {
            int slot = _pendingHead;
            _pendingHead = Slot(_next[slot]);
            _next[slot] = _free + 1;
            _free = slot;
            _freeCount++;
        }
        if (_pendingHead == None) _pendingTail = None;
    }

    /// <summary>BPF_MAP_GET_NEXT_KEY order: slot order; an absent (or empty) key starts from the first slot. Slots
    /// past the high-water mark were never used: the walk stops there (and touches no page a reserved index left alone).</summary>
    public int NextAfter(ReadOnlySpan<byte> key)
    {
        int start = key.Length == _keySize ? Find(key) : None;
        for (int s = start + 1; s < _highWater; s++)
            if (_used[s] != 0) return s;
        return None;
    }

    /// <summary>Per-process random seed, so bucket placement cannot be predicted from outside.</summary>
    internal static readonly ulong Seed = (ulong)Random.Shared.NextInt64() | 1;

    /// <summary>The multipliers of <see cref="Hash"/> (compiled code computes the same hash with them).</summary>
    internal const ulong LengthMix = 0x9E3779B97F4A7C15UL, WordMix = 0xbf58476d1ce4e5b9UL, HalfMix = 0x94d049bb133111ebUL,
        ByteMix = 0x100000001b3UL, FinalMix = 0xd6e8feb86659fd93UL;

    /// <summary>The longest key <see cref="Hash"/> takes as one word.</summary>
    internal const int WordKey = 8;

    /// <summary>A fast keyed mix (keys are small: ports, addresses, flow tuples). A key of at most <see cref="WordKey"/>
    /// bytes is one word (its bytes little-endian, zero-padded) and one multiply, so compiled code hashes it in a few
    /// instructions; a longer one goes by 8-byte words, a 4-byte half and single bytes. Then the final mix.</summary>
    private static int Hash(ReadOnlySpan<byte> key)
    {
        ulong h = Seed ^ ((ulong)key.Length * LengthMix);
        if (key.Length <= WordKey)
        {
            ulong word = key.Length switch
            {
                8 => System.Runtime.InteropServices.MemoryMarshal.Read<ulong>(key),
                4 => System.Runtime.InteropServices.MemoryMarshal.Read<uint>(key),
                2 => System.Runtime.InteropServices.MemoryMarshal.Read<ushort>(key),
                _ => Bytes(key),
            };
            h = (h ^ word) * WordMix;
        }
        else
        {
            while (key.Length >= 8)
            {
                h = (h ^ System.Runtime.InteropServices.MemoryMarshal.Read<ulong>(key)) * WordMix;
                h ^= h >> 31;
                key = key[8..];
            }
            if (key.Length >= 4)
            {
                h = (h ^ System.Runtime.InteropServices.MemoryMarshal.Read<uint>(key)) * HalfMix;
                h ^= h >> 29;
                key = key[4..];
            }
            foreach (byte b in key) h = (h ^ b) * ByteMix;
        }
        h ^= h >> 32;
        h *= FinalMix;
        return (int)(h ^ (h >> 32));

        static ulong Bytes(ReadOnlySpan<byte> key)
        {
            ulong word = 0;
            for (int k = key.Length - 1; k >= 0; k--) word = word << 8 | key[k];
            return word;
        }
    }
}
