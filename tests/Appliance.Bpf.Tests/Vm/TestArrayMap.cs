using System.Buffers.Binary;
using Appliance.Bpf.Maps;

namespace Appliance.Bpf.Tests.Vm;

/// <summary>A minimal BPF_MAP_TYPE_ARRAY for the engine's tests (key u32, values in place in one array), so
/// the helper tests do not depend on the production map implementations.</summary>
internal sealed class TestArrayMap(BpfMapDefinition definition) : BpfMap(definition)
{
    public byte[] Storage { get; } = definition.InitialValue?.ToArray() ?? new byte[definition.ValueSize * definition.MaxEntries];

    public static TestArrayMap Create(int valueSize, int entries = 1, bool readOnly = false, byte[]? initial = null) =>
        new(new BpfMapDefinition("test", BpfMapType.Array, 4, valueSize, entries, readOnly ? BpfMapFlags.ReadOnlyProg : 0) { Frozen = readOnly, InitialValue = initial });

    public override bool TryLookup(ReadOnlySpan<byte> key, out MapValue value)
    {
        uint index = BinaryPrimitives.ReadUInt32LittleEndian(key);
        value = index < MaxEntries ? new ArraySegment<byte>(Storage, (int)index * ValueSize, ValueSize) : default;
        return index < MaxEntries;
    }

    public override int Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags)
    {
        uint index = BinaryPrimitives.ReadUInt32LittleEndian(key);
        if (index >= MaxEntries) return -7;
        if (flags == 1) return -17;
        value.CopyTo(Storage.AsSpan((int)index * ValueSize, ValueSize));
        return 0;
    }

    public override int Delete(ReadOnlySpan<byte> key) => -22;

    public override bool TryGetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey)
    {
        uint next = key.IsEmpty ? 0 : BinaryPrimitives.ReadUInt32LittleEndian(key) + 1;
        if (next >= MaxEntries) return false;
        BinaryPrimitives.WriteUInt32LittleEndian(nextKey, next);
        return true;
    }

    public ulong ReadU64(int index) => BinaryPrimitives.ReadUInt64LittleEndian(Storage.AsSpan(index * ValueSize));
}
