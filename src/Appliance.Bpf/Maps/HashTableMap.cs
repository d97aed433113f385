namespace Appliance.Bpf.Maps;

/// <summary>What the hash-family maps share: max_entries slots (<see cref="HashSlots"/>), each
/// with <see cref="CpuCount"/> 8-byte-aligned values (1 except for per-CPU maps), kernel flag and errno
/// semantics, lock-free lookups under a seqlock and locked inserts/deletes. Updating an existing key
/// overwrites its value in place (no allocation), so a program still holding the value sees the change.
/// The slots and values are preallocated, or with BPF_F_NO_PREALLOC reserved (<see cref="MapStorage.Reserve"/>): the
/// memory of a slot is taken when a key first lands in it, so a map declared for millions of keys costs what it
/// holds, as the kernel's per-element allocation does (a deleted key's slot is reused, not given back).</summary>
public abstract class HashTableMap : BpfMap
{
    private readonly HashSlots _slots;
    private readonly MapSeqLock _lock = new();
    private readonly MapStorage _values;
    private readonly int _stride;

    protected HashTableMap(BpfMapDefinition definition, int cpuCount) : base(definition)
    {
        CpuCount = cpuCount;
        _stride = MapLayout.Stride(definition.ValueSize);
        bool reserve = (definition.Flags & BpfMapFlags.NoPrealloc) != 0;
        _slots = new HashSlots(definition.KeySize, definition.MaxEntries, reserve: reserve);
        // Fixed for the map's life: compiled code finds values at a fixed host address (see Jit.InlineMap).
        long bytes = (long)_stride * cpuCount * _slots.Capacity;
        _values = reserve ? MapStorage.Reserve(bytes) : MapStorage.Preallocate(bytes);
    }

    /// <summary>Bytes a map of <paramref name="def"/> takes with <paramref name="cpuCount"/> CPU slots: its keys, index
    /// and values (reserved address space for BPF_F_NO_PREALLOC).</summary>
    internal static long StorageBytes(BpfMapDefinition def, int cpuCount) =>
        ((long)MapLayout.Stride(def.ValueSize) * cpuCount + def.KeySize) * def.MaxEntries + HashSlots.IndexBytes(def.MaxEntries);

    public override long ReservedBytes => _slots.ReservedBytes + _values.ReservedBytes;

    internal override void Free()
    {
        _slots.Free();
        _values.Free();
    }

    /// <summary>The key index and its seqlock, for the JIT's inline lookup (which reads them as <see cref="FindSlot"/> does).</summary>
    internal HashSlots Slots => _slots;
    internal nint SequenceAddress => _lock.SequenceAddress;

    /// <summary>The values' identity in the VM's map-value cache (see JitState.ValueCacheSlot, <see cref="MapStorage.CacheIdentity"/>).</summary>
    internal int ValuesHash => _values.CacheIdentity;

    /// <summary>The host address of slot 0's value (the values never move): slot s, CPU c at (s * CpuCount + c) * Stride.</summary>
    internal unsafe nint ValuesAddress => (nint)_values.Address;

    internal int Stride => _stride;

    /// <summary>Value copies per key: 1, or the number of CPU slots for per-CPU maps.</summary>
    public int CpuCount { get; }

    /// <summary>Keys present now.</summary>
    public int Count => _slots.Count;

    public override bool TryLookup(ReadOnlySpan<byte> key, out MapValue value) => TryLookupOnCpu(key, BpfCpu.Current, out value);

    /// <summary>The value of one CPU slot (the program view of a per-CPU map on that CPU).</summary>
    public bool TryLookupOnCpu(ReadOnlySpan<byte> key, int cpu, out MapValue value) =>
        TryFind(key, cpu, out value, markUsed: true);

    /// <summary>An LRU map does not count a walk as a use, so a program scanning the map periodically does not shield
    /// every element from eviction.</summary>
    public override bool TryWalkValue(ReadOnlySpan<byte> key, out MapValue value) =>
        TryFind(key, BpfCpu.Current, out value, markUsed: false);

    private bool TryFind(ReadOnlySpan<byte> key, int cpu, out MapValue value, bool markUsed)
    {
        int slot = FindSlot(key);
        if (slot < 0)
        {
            value = default;
            return false;
        }
        if (markUsed) OnProgramLookup(slot);
        value = _values.Value(Offset(slot, cpu), ValueSize);
        return true;
    }

    public override bool TryLookupFromUser(ReadOnlySpan<byte> key, Span<byte> value)
    {
        int slot = FindSlot(key);
        if (slot < 0) return false;
        for (int cpu = 0; cpu < CpuCount; cpu++)
            _values.Span(Offset(slot, cpu), ValueSize).CopyTo(value.Slice(cpu * _stride));
        return true;
    }

    /// <summary>A program's update: sets the current CPU's value; a new key's other CPU values start at zero.</summary>
    public override int Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags) =>
        value.Length < ValueSize ? -Errno.EINVAL : Store(key, value, flags, allCpus: false);

    /// <summary>A user-space update: for per-CPU maps <paramref name="value"/> holds every CPU's value.</summary>
    public override int UpdateFromUser(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags) =>
        value.Length < UserValueSize ? -Errno.EINVAL : Store(key, value, flags, allCpus: CpuCount > 1);

    public override int Delete(ReadOnlySpan<byte> key)
    {
        if (key.Length < KeySize) return -Errno.EINVAL;
        using var write = _lock.Write();
        int slot = _slots.Find(key[..KeySize]);
        if (slot < 0) return -Errno.ENOENT;
        _slots.Remove(slot);
        return 0;
    }

    public override bool TryGetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey)
    {
        using var write = _lock.Write(); // iteration is a control-plane operation; keep it simple and consistent
        int slot = _slots.NextAfter(key.Length >= KeySize ? key[..KeySize] : ReadOnlySpan<byte>.Empty);
        if (slot < 0) return false;
        _slots.KeyAt(slot).CopyTo(nextKey);
        return true;
    }

    /// <summary>Called on a program lookup hit (LRU marks the slot as recently used).</summary>
    protected virtual void OnProgramLookup(int slot) { }

    /// <summary>Called with the write lock held when a new key finds no free slot: a slot to reuse
    /// (already removed from the index), or -1 for -E2BIG.</summary>
    protected virtual int OnFull(HashSlotsAccess slots) => -1;

    /// <summary>Called with the write lock held after a key took <paramref name="slot"/>.</summary>
    protected virtual void OnInserted(int slot) { }

    private int FindSlot(ReadOnlySpan<byte> key)
    {
        if (key.Length < KeySize) return -1;
        key = key[..KeySize];
        int slot, seq;
        do
        {
            seq = _lock.ReadBegin();
            slot = _slots.Find(key);
        } while (_lock.ReadRetry(seq));
        return slot;
    }

    private int Store(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags, bool allCpus)
    {
        if (!MapLayout.ValidFlags(flags) || key.Length < KeySize) return -Errno.EINVAL;
        key = key[..KeySize];
        using var write = _lock.Write();
        int slot = _slots.Find(key);
        if (slot >= 0)
        {
            if (flags == BpfUpdateFlags.NoExist) return -Errno.EEXIST;
        }
        else
        {
            if (flags == BpfUpdateFlags.Exist) return -Errno.ENOENT;
            slot = _slots.Insert(key);
            if (slot < 0)
            {
                if (OnFull(new HashSlotsAccess(_slots)) < 0) return -Errno.E2BIG;
                slot = _slots.Insert(key);
            }
            _values.Span(Offset(slot, 0), _stride * CpuCount).Clear();
            OnInserted(slot);
        }
        if (allCpus)
            for (int cpu = 0; cpu < CpuCount; cpu++)
                value.Slice(cpu * _stride, ValueSize).CopyTo(_values.Span(Offset(slot, cpu), ValueSize));
        else
            value[..ValueSize].CopyTo(_values.Span(Offset(slot, BpfCpu.Current), ValueSize));
        return 0;
    }

    private long Offset(int slot, int cpu) => ((long)slot * CpuCount + (int)((uint)cpu % (uint)CpuCount)) * _stride;

    /// <summary>The slot index as subclasses may touch it (eviction) — only under the write lock.</summary>
    protected readonly struct HashSlotsAccess
    {
        private readonly HashSlots _slots;
        internal HashSlotsAccess(HashSlots slots) => _slots = slots;
        public int Capacity => _slots.Capacity;
        public bool IsUsed(int slot) => _slots.IsUsed(slot);
        public void Remove(int slot) => _slots.Remove(slot);
    }
}
