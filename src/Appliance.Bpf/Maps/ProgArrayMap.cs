using System.Buffers.Binary;
using Appliance.Bpf.Helpers;

namespace Appliance.Bpf.Maps;

/// <summary>BPF_MAP_TYPE_PROG_ARRAY, the jump table of bpf_tail_call: key u32 index, value u32. Where the
/// kernel stores a program fd, the appliance stores a program reference of its own choosing (the index of
/// the program in its object); the tail_call helper reads it with <see cref="TryGetProgram"/>. Programs
/// cannot look entries up (as in the kernel); user space reads/writes the u32. Empty slots are absent.</summary>
public sealed class ProgArrayMap : BpfMap, IBpfProgramArray
{
    private const int Empty = -1;
    private readonly int[] _programs;

    public ProgArrayMap(BpfMapDefinition definition) : base(definition)
    {
        _programs = new int[definition.MaxEntries];
        Array.Fill(_programs, Empty);
    }

    /// <summary>The program stored at <paramref name="index"/>, for bpf_tail_call.</summary>
    public bool TryGetProgram(uint index, out int program)
    {
        program = index < (uint)_programs.Length ? Volatile.Read(ref _programs[index]) : Empty;
        return program != Empty;
    }

    public override bool TryLookup(ReadOnlySpan<byte> key, out MapValue value)
    {
        value = default;
        return false;
    }

    public override bool TryLookupFromUser(ReadOnlySpan<byte> key, Span<byte> value)
    {
        if (!MapLayout.TryIndex(key, out uint i) || !TryGetProgram(i, out int program)) return false;
        BinaryPrimitives.WriteInt32LittleEndian(value, program);
        return true;
    }

    public override int Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags)
    {
        if (!MapLayout.ValidFlags(flags) || value.Length < 4 || !MapLayout.TryIndex(key, out uint i)) return -Errno.EINVAL;
        if (i >= (uint)_programs.Length) return -Errno.E2BIG;
        if (flags == BpfUpdateFlags.NoExist) return -Errno.EEXIST;
        int program = BinaryPrimitives.ReadInt32LittleEndian(value);
        if (program < 0) return -Errno.EINVAL;
        Volatile.Write(ref _programs[i], program);
        return 0;
    }

    public override int Delete(ReadOnlySpan<byte> key)
    {
        if (!MapLayout.TryIndex(key, out uint i)) return -Errno.EINVAL;
        if (i >= (uint)_programs.Length) return -Errno.E2BIG;
        return Interlocked.Exchange(ref _programs[i], Empty) == Empty ? -Errno.ENOENT : 0;
    }

    public override bool TryGetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey) => MapLayout.NextIndex(key, MaxEntries, nextKey);
}
