namespace Appliance.Bpf.Maps;

/// <summary>One live map, shared by the programs of an object and by the CLI. Values live in place:
/// a lookup hands out the storage itself (array + offset), so a program's write through the returned
/// pointer is the map's new value, as in the kernel. Results follow the kernel: 0 or a negative errno.</summary>
public abstract class BpfMap
{
    protected BpfMap(BpfMapDefinition definition) => Definition = definition;

    private static int s_lastId;

    public BpfMapDefinition Definition { get; }

    /// <summary>A number unique in the process (the kernel's map id), what user space reads from a map of maps.</summary>
    public int Id { get; } = Interlocked.Increment(ref s_lastId);
    public string Name => Definition.Name;
    public BpfMapType Type => Definition.Type;
    public int KeySize => Definition.KeySize;
    public int ValueSize => Definition.ValueSize;
    public int MaxEntries => Definition.MaxEntries;

    /// <summary>The value's storage for <paramref name="key"/>, or false when absent.</summary>
    public abstract bool TryLookup(ReadOnlySpan<byte> key, out MapValue value);

    /// <summary>The value a walk of the map (bpf_for_each_map_elem) hands to its callback: a program's lookup, except
    /// that maps tracking use (LRU) do not count it as one, as the kernel's walk does not.</summary>
    public virtual bool TryWalkValue(ReadOnlySpan<byte> key, out MapValue value) => TryLookup(key, out value);

    /// <summary>BPF_ANY (0), BPF_NOEXIST (1), BPF_EXIST (2). Returns 0 or -errno (-E2BIG when full, -EEXIST, -ENOENT, -EINVAL).</summary>
    public abstract int Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags);

    /// <summary>Returns 0 or -errno (-ENOENT when absent, -EINVAL for arrays).</summary>
    public abstract int Delete(ReadOnlySpan<byte> key);

    /// <summary>Iteration as BPF_MAP_GET_NEXT_KEY: an empty <paramref name="key"/> asks for the first key.</summary>
    public abstract bool TryGetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey);

    /// <summary>The value size user space (CLI, config, tests) reads and writes: <see cref="ValueSize"/>,
    /// except per-CPU maps, where it is one 8-byte-aligned value per CPU slot, as the kernel's syscalls do.</summary>
    public virtual int UserValueSize => ValueSize;

    /// <summary>A copy of the value as user space sees it (<see cref="UserValueSize"/> bytes; per-CPU maps
    /// give every CPU's value). False when absent.</summary>
    public virtual bool TryLookupFromUser(ReadOnlySpan<byte> key, Span<byte> value)
    {
        if (!TryLookup(key, out var v)) return false;
        v.AsSpan().CopyTo(value);
        return true;
    }

    /// <summary>An update from user space (<see cref="UserValueSize"/> bytes; per-CPU maps take every CPU's value).</summary>
    public virtual int UpdateFromUser(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags) => Update(key, value, flags);

    /// <summary>Address space the map reserved (BPF_F_NO_PREALLOC, <see cref="MapStorage.Reserve"/>) and still holds.</summary>
    public virtual long ReservedBytes => 0;

    /// <summary>Gives the map's reserved memory back now (<see cref="RetiredMemory"/>, once no run, compiled code or
    /// user-space access can reach the map): nothing may use the map afterwards. Managed storage is the GC's.</summary>
    internal virtual void Free() { }

    /// <summary>The map implementation for a definition (see <see cref="BpfMapFactory"/>).</summary>
    public static BpfMap Create(BpfMapDefinition definition, int cpuCount = 1) => BpfMapFactory.Create(definition, cpuCount);
}
