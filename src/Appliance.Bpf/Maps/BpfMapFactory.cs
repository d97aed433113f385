namespace Appliance.Bpf.Maps;

/// <summary>Creates the map implementation for a definition after the kernel's own checks
/// (map_alloc_check): sizes, flags, and the per-type rules. Invalid definitions throw
/// <see cref="ArgumentException"/> naming the map and the rule.</summary>
public static class BpfMapFactory
{
    /// <param name="cpuCount">CPU slots for per-CPU maps: one per datapath worker (see <see cref="BpfCpu"/>).</param>
    public static BpfMap Create(BpfMapDefinition def, int cpuCount = 1)
    {
        if (cpuCount < 1) throw Invalid(def, $"cpuCount must be at least 1 (got {cpuCount})");
        if (BpfMapTypeNames.WhyUnsupported(def.Type) is not null) return new UnsupportedMap(def);
        if (def.MaxEntries <= 0) throw Invalid(def, "max_entries must be at least 1");
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
                break;
            case BpfMapType.ProgArray:
                if (def.KeySize != 4 || def.ValueSize != 4) throw Invalid(def, "a prog_array needs key_size 4 and value_size 4");
                break;
            case BpfMapType.LpmTrie:
                if (def.KeySize < 5 || def.KeySize > 4 + 256) throw Invalid(def, $"an lpm_trie key is u32 prefixlen + 1..256 data bytes (key_size 5..260, got {def.KeySize})");
                if (def.ValueSize < 1) throw Invalid(def, "value_size must be at least 1");
                if ((def.Flags & BpfUpdateFlags.NoPreallocMapFlag) == 0) throw Invalid(def, "an lpm_trie needs map_flags BPF_F_NO_PREALLOC (1), as in the kernel");
                break;
            case BpfMapType.Queue:
            case BpfMapType.Stack:
                if (def.KeySize != 0) throw Invalid(def, "a queue or stack has key_size 0");
                if (def.ValueSize <= 0) throw Invalid(def, $"value_size must be at least 1 (got {def.ValueSize})");
                if ((long)def.ValueSize * (def.MaxEntries + 1L) > 1L << 30) throw Invalid(def, "max_entries × value_size exceeds 1 GiB");
                break;
            case BpfMapType.ArrayOfMaps:
            case BpfMapType.HashOfMaps:
                if (def.Type == BpfMapType.ArrayOfMaps && def.KeySize != 4) throw Invalid(def, $"key_size must be 4 (got {def.KeySize})");
                if (def.KeySize <= 0 || def.KeySize > 512) throw Invalid(def, $"key_size must be 1..512 (got {def.KeySize})");
                if (def.ValueSize != 4) throw Invalid(def, $"a map of maps has value_size 4, an inner map reference (got {def.ValueSize})");
                if (def.InnerMap is null) throw Invalid(def, "a map of maps needs an inner map template (__array(values, struct {...}))");
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
        if (def.SpinLockOffset >= 0 && def.Type is not (BpfMapType.Hash or BpfMapType.Array))
            throw Invalid(def, "a value with a struct bpf_spin_lock needs a hash or array map (as in the kernel)");
        if (def.SpinLockOffset >= 0 && def.SpinLockOffset > def.ValueSize - 4)
            throw Invalid(def, $"the struct bpf_spin_lock at offset {def.SpinLockOffset} is outside the {def.ValueSize}-byte value");
        if (def.Type != BpfMapType.Array && def.InitialValue is not null)
            throw Invalid(def, "only array maps can carry an initial value");

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

    private static void RequireSizes(BpfMapDefinition def, int? key)
    {
        if (key is { } k && def.KeySize != k) throw Invalid(def, $"key_size must be {k} (got {def.KeySize})");
        if (def.KeySize <= 0 || def.KeySize > 512) throw Invalid(def, $"key_size must be 1..512 (got {def.KeySize})");
        if (def.ValueSize <= 0) throw Invalid(def, $"value_size must be at least 1 (got {def.ValueSize})");
        if ((long)MapLayout.Stride(def.ValueSize) * def.MaxEntries > 1L << 30)
            throw Invalid(def, "max_entries × value_size exceeds 1 GiB");
    }

    private static ArgumentException Invalid(BpfMapDefinition def, string rule) =>
        new($"map '{def.Name}' ({def.Type}): {rule}", nameof(def));
}
