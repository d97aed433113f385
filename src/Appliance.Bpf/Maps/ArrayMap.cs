namespace Appliance.Bpf.Maps;

/// <summary>BPF_MAP_TYPE_ARRAY: max_entries zeroed values allocated up front, key = u32 index. Every
/// element always exists: update with BPF_NOEXIST gives -EEXIST, delete gives -EINVAL, an index past the
/// end -E2BIG. Global-data maps (.data/.rodata/.bss) are one-entry arrays starting with the section's
/// bytes. Lookups and updates take no lock (an update is a plain copy, like the kernel's).</summary>
public sealed class ArrayMap : BpfMap
{
    private readonly byte[] _values;
    private readonly int _stride;

    public ArrayMap(BpfMapDefinition definition) : base(definition)
    {
        _stride = MapLayout.Stride(definition.ValueSize);
        // Pinned for the map's life: compiled code looks elements up at a fixed host address (see JitLowering).
        _values = GC.AllocateArray<byte>(checked((int)((long)_stride * definition.MaxEntries)), pinned: true);
        definition.InitialValue?.AsSpan(0, Math.Min(definition.InitialValue.Length, definition.ValueSize)).CopyTo(_values);
    }

    /// <summary>The identity hash of the values' array: the key of the VM's map-value cache (see JitState.ValueCacheSlot).</summary>
    internal int ValuesHash => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(_values);

    /// <summary>The host address of element 0 (the values never move); elements are <see cref="Stride"/> bytes apart.</summary>
    internal unsafe nint ValuesAddress => (nint)System.Runtime.CompilerServices.Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(_values));

    internal int Stride => _stride;

    public override bool TryLookup(ReadOnlySpan<byte> key, out MapValue value)
    {
        if (MapLayout.TryIndex(key, out uint i) && i < (uint)MaxEntries)
        {
            value = new MapValue(_values, (int)i * _stride, ValueSize);
            return true;
        }
        value = default;
        return false;
    }

    public override int Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags)
    {
        if (value.Length < ValueSize || !MapLayout.TryIndex(key, out uint i)) return -Errno.EINVAL;
        int check = MapLayout.ArrayUpdateCheck(flags, i, MaxEntries);
        if (check != 0) return check;
        value[..ValueSize].CopyTo(_values.AsSpan((int)i * _stride, ValueSize));
        return 0;
    }

    public override int UpdateFromUser(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags) =>
        MapLayout.ValidFlags(flags) ? Update(key, value, flags) : -Errno.EINVAL;

    public override int Delete(ReadOnlySpan<byte> key) => -Errno.EINVAL;

    public override bool TryGetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey) => MapLayout.NextIndex(key, MaxEntries, nextKey);
}
