namespace Appliance.Bpf.Maps;

/// <summary>Creates the map implementation for a definition after the kernel's own checks
/// (map_alloc_check): sizes, flags, and the per-type rules. Invalid definitions throw
/// <see cref="ArgumentException"/> naming the map and the rule. The kernel's size limits are those of a kernel with
/// 4 KiB pages (KMALLOC_MAX_SIZE 4 MiB), what x86-64 and the boards' arm64 kernels use; on top of them a map's
/// storage is bounded by <see cref="MaxStorage"/> here.</summary>
public static class BpfMapFactory
{
    /// <param name="cpuCount">CPU slots for per-CPU maps: one per datapath worker (see <see cref="BpfCpu"/>).</param>
    public static BpfMap Create(BpfMapDefinition def, int cpuCount = 1)
    {
        if (cpuCount < 1) throw Invalid(def, $"cpuCount must be at least 1 (got {cpuCount})");
        if (BpfMapTypeNames.WhyUnsupported(def.Type) is not null) return new UnsupportedMap(def);
        Check(def, cpuCount);
        return def.Type switch
        {
            BpfMapType.Array => new ArrayMap(def),
            BpfMapType.PercpuArray => new PercpuArrayMap(def, cpuCount),
            BpfMapType.Hash => new HashMap(def),
            BpfMapType.PercpuHash => new PercpuHashMap(def, cpuCount),
            BpfMapType.LruHash => new LruHashMap(def),
            BpfMapType.LruPercpuHash => new LruHashMap(def, cpuCount),
            BpfMapType.LpmTrie => new LpmTrieMap(def),
            BpfMapType.ProgArray => new ProgArrayMap(def),
            BpfMapType.Queue or BpfMapType.Stack => new QueueStackMap(def),
            BpfMapType.PerfEventArray => new PerfEventArrayMap(def),
            BpfMapType.ArrayOfMaps or BpfMapType.HashOfMaps => new MapOfMaps(def),
            _ => new RingBufMap(def),
        };
    }

    /// <summary>The checks <see cref="Create"/> makes, without making the map (also for a map of maps' inner template,
    /// which libbpf creates as a map in the kernel first).</summary>
    private static void Check(BpfMapDefinition def, int cpuCount)
    {
        if (def.MaxEntries <= 0) throw Invalid(def, "max_entries must be at least 1");
        if (BpfMapFlags.WhyRefused(def) is { } flags) throw Invalid(def, flags);
        switch (def.Type)
        {
            case BpfMapType.Array:
            case BpfMapType.PercpuArray:
                RequireSizes(def, key: 4);
                break;
            case BpfMapType.Hash:
            case BpfMapType.PercpuHash:
            case BpfMapType.LruHash:
            case BpfMapType.LruPercpuHash:
                RequireSizes(def, key: null);
                RequireHashElement(def);
                break;
            case BpfMapType.ProgArray:
                if (def.KeySize != 4 || def.ValueSize != 4) throw Invalid(def, "a prog_array needs key_size 4 and value_size 4");
                break;
            case BpfMapType.LpmTrie:
                if (def.KeySize < 5 || def.KeySize > 4 + 256) throw Invalid(def, $"an lpm_trie key is u32 prefixlen + 1..256 data bytes (key_size 5..260, got {def.KeySize})");
                if (def.ValueSize < 1 || def.ValueSize > LpmMaxValueSize)
                    throw Invalid(def, $"an lpm_trie value_size must be 1..{LpmMaxValueSize} (KMALLOC_MAX_SIZE minus the largest key and the trie node; got {def.ValueSize}; the kernel refuses it with EINVAL)");
                if ((def.Flags & BpfMapFlags.NoPrealloc) == 0) throw Invalid(def, "an lpm_trie needs map_flags BPF_F_NO_PREALLOC (1), as in the kernel");
                break;
            case BpfMapType.Queue:
            case BpfMapType.Stack:
                if (def.KeySize != 0) throw Invalid(def, "a queue or stack has key_size 0");
                if (def.ValueSize <= 0) throw Invalid(def, $"value_size must be at least 1 (got {def.ValueSize})");
                if (def.ValueSize > KmallocMaxSize)
                    throw Invalid(def, $"value_size {def.ValueSize} is more than the {KmallocMaxSize} bytes (KMALLOC_MAX_SIZE) the kernel's queues and stacks take (it refuses the map with E2BIG)");
                break;
            case BpfMapType.ArrayOfMaps:
            case BpfMapType.HashOfMaps:
                if (def.Type == BpfMapType.ArrayOfMaps && def.KeySize != 4) throw Invalid(def, $"key_size must be 4 (got {def.KeySize})");
                if (def.KeySize <= 0) throw Invalid(def, $"key_size must be at least 1 (got {def.KeySize})");
                if (def.ValueSize != 4) throw Invalid(def, $"a map of maps has value_size 4, an inner map reference (got {def.ValueSize})");
                if (def.Type == BpfMapType.HashOfMaps) RequireHashElement(def);
                if (def.InnerMap is null) throw Invalid(def, "a map of maps needs an inner map template (__array(values, struct {...}))");
                if (def.InnerMap.Type is BpfMapType.ArrayOfMaps or BpfMapType.HashOfMaps)
                    throw Invalid(def, "its inner maps are maps of maps: the kernel nests maps one level only (it refuses the map with EINVAL)");
                if (BpfMapTypeNames.WhyUnsupported(def.InnerMap.Type) is null)
                {
                    try { Check(def.InnerMap, cpuCount); }
                    catch (ArgumentException e) { throw Invalid(def, $"its inner map template cannot be made: {e.Message}"); }
                }
                break;
            case BpfMapType.PerfEventArray:
                if (def.KeySize != 4 || def.ValueSize != 4) throw Invalid(def, "a perf_event_array needs key_size 4 and value_size 4");
                break;
            case BpfMapType.RingBuf:
                if (def.KeySize != 0 || def.ValueSize != 0) throw Invalid(def, "a ringbuf has key_size 0 and value_size 0");
                if ((def.MaxEntries & (def.MaxEntries - 1)) != 0 || def.MaxEntries % 4096 != 0)
                    throw Invalid(def, $"a ringbuf size (max_entries) must be a power of two and a multiple of 4096 (got {def.MaxEntries})");
                break;
            default:
                throw Invalid(def, $"map type {def.Type} is not supported");
        }
        long perCpuValue = ValueStride(def);
        if (def.Type is BpfMapType.PercpuArray or BpfMapType.PercpuHash or BpfMapType.LruPercpuHash && perCpuValue > PcpuMinUnitSize)
            throw Invalid(def, $"a per-CPU value of {def.ValueSize} bytes ({perCpuValue} rounded up to 8) is more than the {PcpuMinUnitSize} bytes " +
                "(PCPU_MIN_UNIT_SIZE) the kernel's per-CPU allocator gives one value (it refuses the map with E2BIG)");
        if (Reserved(def))
        {
            long reserved = HashTableMap.StorageBytes(def, cpuCount);
            if (reserved > MaxReservation)
                throw Invalid(def, $"max_entries {def.MaxEntries} would reserve {reserved >> 30} GiB of address space (keys, values and slots, " +
                    $"{cpuCount} CPU slot(s)), more than the {MaxReservation >> 30} GiB a BPF_F_NO_PREALLOC hash may reserve");
        }
        else
        {
            long storage = StorageBytes(def, cpuCount);
            if (storage > MaxStorage)
                throw Invalid(def, $"max_entries {def.MaxEntries} would take {storage >> 20} MiB (keys, values and slots), more than the 1 GiB a map may take" +
                    (def.Type is BpfMapType.Hash or BpfMapType.PercpuHash ? " (with BPF_F_NO_PREALLOC it would take only what it holds)" : ""));
        }
        if (def.SpinLockOffset >= 0 && def.Type is not (BpfMapType.Hash or BpfMapType.Array))
            throw Invalid(def, "a value with a struct bpf_spin_lock needs a hash or array map (as in the kernel)");
        if (def.SpinLockOffset >= 0 && def.SpinLockOffset > def.ValueSize - 4)
            throw Invalid(def, $"the struct bpf_spin_lock at offset {def.SpinLockOffset} is outside the {def.ValueSize}-byte value");
        if (def.Type != BpfMapType.Array && def.InitialValue is not null)
            throw Invalid(def, "only array maps can carry an initial value");
    }

    private static void RequireSizes(BpfMapDefinition def, int? key)
    {
        if (key is { } k && def.KeySize != k) throw Invalid(def, $"key_size must be {k} (got {def.KeySize})");
        if (def.KeySize <= 0) throw Invalid(def, $"key_size must be at least 1 (got {def.KeySize})");
        if (def.ValueSize <= 0) throw Invalid(def, $"value_size must be at least 1 (got {def.ValueSize})");
    }

    /// <summary>The kernel's htab_map_alloc_check bounds a hash element (hash, per-CPU and LRU hashes, hash of maps), not
    /// its key: key_size + value_size below KMALLOC_MAX_SIZE minus the element header, whatever the split.</summary>
    private static void RequireHashElement(BpfMapDefinition def)
    {
        if ((long)def.KeySize + def.ValueSize >= KmallocMaxSize - HashElementHeader)
            throw Invalid(def, $"key_size + value_size is {(long)def.KeySize + def.ValueSize} bytes: the kernel's hash maps take less than " +
                $"{KmallocMaxSize - HashElementHeader} (KMALLOC_MAX_SIZE minus its element header; it refuses the map with E2BIG)");
    }

    private const long MaxStorage = 1L << 30;

    /// <summary>A hash or per-CPU hash with BPF_F_NO_PREALLOC reserves its storage (<see cref="MapStorage.Reserve"/>): it
    /// takes memory only for the keys it holds, so only its address space is bounded, by <see cref="MaxReservation"/>.</summary>
    private static bool Reserved(BpfMapDefinition def) =>
        def.Type is BpfMapType.Hash or BpfMapType.PercpuHash && (def.Flags & BpfMapFlags.NoPrealloc) != 0;

    /// <summary>The address space one reserved map may take: 64 GiB, 1/2048 of the 128 TiB a process has on x86-64
    /// and a quarter of the 256 GiB left beside the .NET GC's default 256 GiB reservation on an arm64 kernel with 39-bit
    /// addresses (the boards' Debian arm64 kernel has 48: 256 TiB). It fits 2^24 keys (netobserv's flow maps) at 4 KiB of
    /// key, values and index each, or 2^28 small ones.</summary>
    private const long MaxReservation = 64L << 30;

    /// <summary>KMALLOC_MAX_SIZE with 4 KiB pages: the largest hash element, queue value, LPM trie node.</summary>
    private const long KmallocMaxSize = 4L << 20;

    /// <summary>sizeof(struct htab_elem) on 64-bit kernels: key + value must stay below KMALLOC_MAX_SIZE minus it.</summary>
    private const long HashElementHeader = 48;

    /// <summary>LPM_VAL_SIZE_MAX: KMALLOC_MAX_SIZE − 256 data bytes − sizeof(struct lpm_trie_node) (24).</summary>
    private const int LpmMaxValueSize = (int)KmallocMaxSize - 256 - 24;

    /// <summary>PCPU_MIN_UNIT_SIZE: a per-CPU map's value, rounded up to 8, may not be larger.</summary>
    private const int PcpuMinUnitSize = 32 << 10;

    /// <summary>About what the map's storage takes, without allocating it: values (per CPU), keys and the
    /// per-slot index of hashed maps, an LPM trie's spare slots. Sizes were checked above, so nothing overflows a long.</summary>
    private static long StorageBytes(BpfMapDefinition def, int cpuCount)
    {
        const long slotIndex = 16; // bucket, chain link, hash, used flag, grace-period stamp
        long entries = def.MaxEntries, stride = ValueStride(def);
        return def.Type switch
        {
            BpfMapType.Array => stride * entries,
            BpfMapType.PercpuArray => stride * cpuCount * entries,
            BpfMapType.Hash or BpfMapType.LruHash => (stride + def.KeySize + slotIndex) * entries,
            BpfMapType.PercpuHash or BpfMapType.LruPercpuHash => (stride * cpuCount + def.KeySize + slotIndex) * entries,
            BpfMapType.LpmTrie => (stride + def.KeySize + slotIndex) * (entries + Math.Max(entries, LpmTrieMap.MinSpare)),
            BpfMapType.ArrayOfMaps or BpfMapType.HashOfMaps => (IntPtr.Size + def.KeySize + slotIndex) * entries,
            BpfMapType.ProgArray => 4 * entries,
            BpfMapType.Queue or BpfMapType.Stack => (long)def.ValueSize * (entries + 1),
            BpfMapType.RingBuf => entries,
            _ => 0,
        };
    }

    /// <summary><see cref="MapLayout.Stride"/> of the value, in a long: a value_size near int.MaxValue passes it.</summary>
    private static long ValueStride(BpfMapDefinition def) => ((long)Math.Max(def.ValueSize, 0) + 7) & ~7L;

    private static ArgumentException Invalid(BpfMapDefinition def, string rule) =>
        new($"map '{def.Name}' ({def.Type}): {rule}"); // no parameter name: validate prints the message as it is
}
