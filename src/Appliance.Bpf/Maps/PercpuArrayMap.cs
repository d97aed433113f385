namespace Appliance.Bpf.Maps;

/// <summary>BPF_MAP_TYPE_PERCPU_ARRAY: an array with one value per CPU slot (see <see cref="BpfCpu"/>).
/// Programs see and write the value of their worker's slot; user space reads and writes all slots at once
/// (<see cref="BpfMap.UserValueSize"/> = cpuCount × round_up(value_size, 8), the kernel's layout).</summary>
public sealed class PercpuArrayMap : BpfMap
{
    private readonly byte[] _values;
    private readonly int _stride;

    public PercpuArrayMap(BpfMapDefinition definition, int cpuCount) : base(definition)
    {
        CpuCount = cpuCount;
        _stride = MapLayout.Stride(definition.ValueSize);
        // Pinned for the map's life: compiled code looks elements up at a fixed host address (see JitLowering).
        _values = GC.AllocateArray<byte>(checked((int)((long)_stride * cpuCount * definition.MaxEntries)), pinned: true);
    }

    public int CpuCount { get; }
    public override int UserValueSize => _stride * CpuCount;

    /// <summary>The identity hash of the values' array: the key of the VM's map-value cache (see JitState.ValueCacheSlot).</summary>
    internal int ValuesHash => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(_values);

    /// <summary>The host address of element 0 (the values never move); elements are <see cref="Stride"/> bytes apart.</summary>
    internal unsafe nint ValuesAddress => (nint)System.Runtime.CompilerServices.Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(_values));

    internal int Stride => _stride;

    public override bool TryLookup(ReadOnlySpan<byte> key, out MapValue value) => TryLookupOnCpu(key, BpfCpu.Current, out value);

    public bool TryLookupOnCpu(ReadOnlySpan<byte> key, int cpu, out MapValue value)
    {
        if (MapLayout.TryIndex(key, out uint i) && i < (uint)MaxEntries)
        {
            value = new MapValue(_values, Offset((int)i, cpu), ValueSize);
            return true;
        }
        value = default;
        return false;
    }

    public override int Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags)
    {
        int check = Check(key, value, flags, ValueSize, out uint i, fromUser: false);
        if (check != 0) return check;
        value[..ValueSize].CopyTo(_values.AsSpan(Offset((int)i, BpfCpu.Current), ValueSize));
        return 0;
    }

    public override bool TryLookupFromUser(ReadOnlySpan<byte> key, Span<byte> value)
    {
        if (!MapLayout.TryIndex(key, out uint i) || i >= (uint)MaxEntries) return false;
        _values.AsSpan(Offset((int)i, 0), UserValueSize).CopyTo(value);
        return true;
    }

    public override int UpdateFromUser(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags)
    {
        int check = Check(key, value, flags, UserValueSize, out uint i, fromUser: true);
        if (check != 0) return check;
        for (int cpu = 0; cpu < CpuCount; cpu++)
            value.Slice(cpu * _stride, ValueSize).CopyTo(_values.AsSpan(Offset((int)i, cpu), ValueSize));
        return 0;
    }

    public override int Delete(ReadOnlySpan<byte> key) => -Errno.EINVAL;

    public override bool TryGetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey) => MapLayout.NextIndex(key, MaxEntries, nextKey);

    private int Offset(int index, int cpu) => (index * CpuCount + (int)((uint)cpu % (uint)CpuCount)) * _stride;

    /// <summary>A program's update checks as an array's (<see cref="MapLayout.ArrayUpdateCheck"/>); user space's flags
    /// beyond BPF_EXIST are -EINVAL first (the syscall's BPF_F_LOCK check, bpf_percpu_array_update's own).</summary>
    private int Check(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags, int size, out uint i, bool fromUser)
    {
        if ((fromUser && !MapLayout.ValidFlags(flags)) || value.Length < size || !MapLayout.TryIndex(key, out i))
        {
            i = 0;
            return -Errno.EINVAL;
        }
        return MapLayout.ArrayUpdateCheck(flags, i, MaxEntries);
    }
}
