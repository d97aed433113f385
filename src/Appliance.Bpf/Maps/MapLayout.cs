namespace Appliance.Bpf.Maps;

/// <summary>Storage arithmetic shared by the map implementations.</summary>
internal static class MapLayout
{
    /// <summary>Values are stored 8-byte aligned (as the kernel's round_up(value_size, 8)), so 64-bit atomics
    /// on a value work and per-CPU copies line up with the kernel's user-space layout.</summary>
    public static int Stride(int valueSize) => (valueSize + 7) & ~7;

    public static bool ValidFlags(ulong flags) => flags <= BpfUpdateFlags.Exist;

    /// <summary>An array's update checks in the order of the kernel's array_map_update_elem: flags beyond BPF_EXIST
    /// (BPF_F_LOCK aside) -EINVAL, an index past the end -E2BIG, BPF_NOEXIST -EEXIST (every element exists), then
    /// BPF_F_LOCK -EINVAL (these values hold no spin lock; one that does takes the helper's locked update). So a
    /// program's BPF_NOEXIST | BPF_F_LOCK gets -EEXIST and BPF_F_LOCK past the end -E2BIG. User space's BPF_F_LOCK the
    /// syscall refuses before the map sees it (<see cref="ValidFlags"/> first).</summary>
    public static int ArrayUpdateCheck(ulong flags, uint index, int maxEntries)
    {
        if ((flags & ~BpfUpdateFlags.Lock) > BpfUpdateFlags.Exist) return -Errno.EINVAL;
        if (index >= (uint)maxEntries) return -Errno.E2BIG;
        if ((flags & BpfUpdateFlags.NoExist) != 0) return -Errno.EEXIST;
        return (flags & BpfUpdateFlags.Lock) != 0 ? -Errno.EINVAL : 0;
    }

    /// <summary>The u32 array index of an array-style key, or false when the key is short.</summary>
    public static bool TryIndex(ReadOnlySpan<byte> key, out uint index)
    {
        if (key.Length < 4) { index = 0; return false; }
        index = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(key);
        return true;
    }

    /// <summary>Array-style next key: index + 1, or 0 for an absent/out-of-range key; false after the last.</summary>
    public static bool NextIndex(ReadOnlySpan<byte> key, int maxEntries, Span<byte> nextKey)
    {
        uint next = TryIndex(key, out uint i) && i < (uint)maxEntries ? i + 1 : 0;
        if (next >= (uint)maxEntries) return false;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(nextKey, next);
        return true;
    }
}
