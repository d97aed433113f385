namespace Appliance.Bpf.Maps;

/// <summary>Storage arithmetic shared by the map implementations.</summary>
internal static class MapLayout
{
    /// <summary>Values are stored 8-byte aligned (as the kernel's round_up(value_size, 8)), so 64-bit atomics
    /// on a value work and per-CPU copies line up with the kernel's user-space layout.</summary>
    public static int Stride(int valueSize) => (valueSize + 7) & ~7;

    public static bool ValidFlags(ulong flags) => flags <= BpfUpdateFlags.Exist;

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
