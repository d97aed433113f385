namespace Appliance.Bpf.Maps;

/// <summary>The key index of the hash-family maps: <c>capacity</c> preallocated slots, chained buckets of
/// slot numbers, and a free list — no allocation after construction. Callers keep the values (by slot
/// number) and hold the write side of a <see cref="MapSeqLock"/> while inserting or removing. Lookups
/// tolerate concurrent changes (chain walks are bounded), the seqlock makes them retry. The arrays a lookup reads
/// are pinned: code the JIT compiled walks the same chains at their host addresses (see <see cref="Jit.InlineMap"/>).
/// A removed slot is free at once (the kernel's preallocated hash maps), or, with <c>spare</c> slots, only after a
/// grace period (<see cref="RunEpochs"/>; the kernel's LPM trie frees after an RCU grace period): it waits in a
/// FIFO until every program run that may hold it has ended, and the spare slots (beyond the <c>limit</c> of live
/// keys) serve inserts meanwhile. An insert never issues the process-wide barrier a grace period needs (it may be a
/// program's, on the packet path): it takes back only slots an issued barrier covers, and once no more slots are free
/// than half the spare ones it asks the grace-period thread for one (<see cref="RunEpochs.Request"/>).</summary>
internal sealed class HashSlots
{
    private const int None = -1;

    private readonly int _keySize;
    private readonly byte[] _keys;
    private readonly int[] _buckets;
    private readonly int[] _next;
    private readonly int[] _hashes;
    private readonly bool[] _used;
    private int _free;
    private int _freeCount;
    /// <summary>Per slot, the epoch its grace period ends at (deferred reuse only); null for immediate reuse.</summary>
    private readonly long[]? _freedAt;
    private int _pendingHead = None, _pendingTail = None;
    /// <summary><see cref="RunEpochs.Fenced"/> when pending slots were last taken back: another is worth a look only
    /// after a newer barrier (or when no slot is free).</summary>
    private long _reclaimedThrough;

    /// <param name="limit">Live keys at most (max_entries).</param>
    /// <param name="spare">Slots beyond <paramref name="limit"/>; more than 0 defers the reuse of removed slots.</param>
    public HashSlots(int keySize, int limit, int spare = 0)
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
        _keys = GC.AllocateArray<byte>(checked(keySize * capacity), pinned: true);
        int buckets = 1;
        while (buckets < capacity) buckets <<= 1;
        _buckets = GC.AllocateArray<int>(buckets, pinned: true);
        Array.Fill(_buckets, None);
        _next = GC.AllocateArray<int>(capacity, pinned: true);
        _hashes = GC.AllocateArray<int>(capacity, pinned: true);
        _used = new bool[capacity];
        for (int i = 0; i < capacity; i++) _next[i] = i + 1 < capacity ? i + 1 : None;
        _free = capacity > 0 ? 0 : None;
        _freeCount = capacity;
    }

    /// <summary>Slots (live, free and waiting for their grace period).</summary>
    public int Capacity { get; }
    /// <summary>Live keys at most.</summary>
    public int Limit { get; }
    public int Count { get; private set; }
    /// <summary>Slots an insert can take now (not live, not waiting for a grace period).</summary>
    public int FreeCount => _freeCount;
    public int KeySize => _keySize;

    /// <summary>Buckets - 1 (a power of two minus one): a hash's bucket is hash &amp; mask.</summary>
    public int BucketMask => _buckets.Length - 1;

    // Host addresses of the pinned arrays (they never move): keys (KeySize bytes per slot), bucket heads and
    // chain links (int slot numbers, -1 for none), and each slot's hash.
    public unsafe nint KeysAddress => (nint)System.Runtime.CompilerServices.Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(_keys));
    public unsafe nint BucketsAddress => (nint)System.Runtime.CompilerServices.Unsafe.AsPointer(ref _buckets[0]);
    public unsafe nint NextAddress => (nint)System.Runtime.CompilerServices.Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(_next));
    public unsafe nint HashesAddress => (nint)System.Runtime.CompilerServices.Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(_hashes));

    public ReadOnlySpan<byte> KeyAt(int slot) => _keys.AsSpan(slot * _keySize, _keySize);
    public bool IsUsed(int slot) => _used[slot];

    /// <summary>The slot holding <paramref name="key"/>, or -1.</summary>
    public int Find(ReadOnlySpan<byte> key)
    {
        int hash = Hash(key);
        int slot = Volatile.Read(ref _buckets[hash & (_buckets.Length - 1)]);
        for (int steps = 0; slot != None && steps < Capacity; steps++)
        {
            if ((uint)slot >= (uint)Capacity) return None; // torn read during a concurrent change; the seqlock retries
            if (_hashes[slot] == hash && _keys.AsSpan(slot * _keySize, _keySize).SequenceEqual(key))
                return slot;
            slot = Volatile.Read(ref _next[slot]);
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
        if (slot == None) return None;
        _free = _next[slot];
        _freeCount--;
        int hash = Hash(key);
        key.CopyTo(_keys.AsSpan(slot * _keySize, _keySize));
        _hashes[slot] = hash;
        _used[slot] = true;
        ref int bucket = ref _buckets[hash & (_buckets.Length - 1)];
        _next[slot] = bucket;
        Volatile.Write(ref bucket, slot);
        Count++;
        return slot;
    }

    public void Remove(int slot)
    {
        ref int link = ref _buckets[_hashes[slot] & (_buckets.Length - 1)];
        while (link != slot)
        {
            if (link == None) return;
            link = ref _next[link];
        }
        Volatile.Write(ref link, _next[slot]);
        _used[slot] = false;
        Count--;
        if (_freedAt is null)
        {
            _next[slot] = _free;
            _free = slot;
            _freeCount++;
            return;
        }
        // A lookup that began before the unlinking may still hold the slot: it waits for its grace period. (A
        // reader still walking through it follows _next into the pending list: a torn walk its seqlock retries.)
        _freedAt[slot] = RunEpochs.TagForFree();
        _next[slot] = None;
        if (_pendingTail == None) _pendingHead = slot;
        else _next[_pendingTail] = slot;
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
        if (fenced != _reclaimedThrough || _free == None)
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
            _pendingHead = _next[slot];
            _next[slot] = _free;
            _free = slot;
            _freeCount++;
        }
        if (_pendingHead == None) _pendingTail = None;
    }

    /// <summary>BPF_MAP_GET_NEXT_KEY order: slot order; an absent (or empty) key starts from the first slot.</summary>
    public int NextAfter(ReadOnlySpan<byte> key)
    {
        int start = key.Length == _keySize ? Find(key) : None;
        for (int s = start + 1; s < Capacity; s++)
            if (_used[s]) return s;
        return None;
    }

    /// <summary>Per-process random seed, so bucket placement cannot be predicted from outside.</summary>
    internal static readonly ulong Seed = (ulong)Random.Shared.NextInt64() | 1;

    /// <summary>The multipliers of <see cref="Hash"/> (compiled code computes the same hash with them).</summary>
    internal const ulong LengthMix = 0x9E3779B97F4A7C15UL, WordMix = 0xbf58476d1ce4e5b9UL, HalfMix = 0x94d049bb133111ebUL,
        ByteMix = 0x100000001b3UL, FinalMix = 0xd6e8feb86659fd93UL;

    /// <summary>A fast keyed mix over 8-byte words (keys are small: ports, addresses, flow tuples).</summary>
    private static int Hash(ReadOnlySpan<byte> key)
    {
        ulong h = Seed ^ ((ulong)key.Length * LengthMix);
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
        h ^= h >> 32;
        h *= FinalMix;
        return (int)(h ^ (h >> 32));
    }
}
