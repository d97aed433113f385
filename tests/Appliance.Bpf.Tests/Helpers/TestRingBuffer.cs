using Appliance.Bpf.Helpers;
using Appliance.Bpf.Maps;

namespace Appliance.Bpf.Tests.Helpers;

/// <summary>A test-only ring buffer map: reservations are separate arrays, committed records are collected.</summary>
internal sealed class TestRingBuffer() : BpfMap(new BpfMapDefinition("rb", BpfMapType.RingBuf, 0, 0, 4096)), IBpfRingBuffer
{
    private readonly byte[] _space = new byte[4096];
    private int _next;

    public List<byte[]> Submitted { get; } = [];
    public int Size => _space.Length;
    public long ProducerPosition => _next;
    public long ConsumerPosition => 0;
    public int Discarded { get; private set; }

    public int Output(ReadOnlySpan<byte> data)
    {
        Submitted.Add(data.ToArray());
        return 0;
    }

    public bool TryReserve(int size, out ArraySegment<byte> sample)
    {
        sample = default;
        if (_next + size > _space.Length) return false;
        sample = new ArraySegment<byte>(_space, _next, size);
        _next += Math.Max(size, 8);
        return true;
    }

    public int Commit(int sampleOffset, bool discard)
    {
        if (discard) Discarded++;
        else Submitted.Add(_space.AsSpan(sampleOffset, 8).ToArray());
        return 0;
    }

    public override bool TryLookup(ReadOnlySpan<byte> key, out MapValue value) { value = default; return false; }
    public override int Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags) => -22;
    public override int Delete(ReadOnlySpan<byte> key) => -22;
    public override bool TryGetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey) => false;
}

/// <summary>A test-only prog array: slot → index into the caller's TailCallTargets.</summary>
internal sealed class TestProgArray() : BpfMap(new BpfMapDefinition("jmp", BpfMapType.ProgArray, 4, 4, 4)), IBpfProgramArray
{
    public Dictionary<uint, int> Slots { get; } = [];

    public bool TryGetProgram(uint index, out int program) => Slots.TryGetValue(index, out program);

    public override bool TryLookup(ReadOnlySpan<byte> key, out MapValue value) { value = default; return false; }
    public override int Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags) => -22;
    public override int Delete(ReadOnlySpan<byte> key) => -22;
    public override bool TryGetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey) => false;
}
