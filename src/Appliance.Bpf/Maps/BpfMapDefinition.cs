namespace Appliance.Bpf.Maps;

/// <summary>What an object file declares about one map (from BTF `.maps`, legacy `maps`, or a
/// global-data section, which becomes a one-entry array whose value is the section's bytes).</summary>
public sealed record BpfMapDefinition(
    string Name,
    BpfMapType Type,
    int KeySize,
    int ValueSize,
    int MaxEntries,
    uint Flags = 0)
{
    /// <summary>For `.data`/`.rodata`/`.bss` maps: the section's initial bytes (length = ValueSize); for `.kconfig` the
    /// kernel's values.</summary>
    public byte[]? InitialValue { get; init; }

    /// <summary>True for `.rodata` and `.kconfig`: its contents are fixed once loaded, as libbpf freezes it (BPF_MAP_FREEZE), so user
    /// space cannot change it and the verifier may read constants from it. Its flags make it read-only to programs.</summary>
    public bool Frozen { get; init; }

    /// <summary>True for `.kconfig`: the loader fills it with the running kernel's values of the object's <c>__kconfig</c>
    /// externs (and freezes it), so nothing else may set its contents, as libbpf refuses an initial value for it.</summary>
    public bool FromKernel { get; init; }

    /// <summary>Programs may write its values and change it (update, delete, push, pop): no BPF_F_RDONLY_PROG.</summary>
    public bool ProgramsMayWrite => (Flags & BpfMapFlags.ReadOnlyProg) == 0;

    /// <summary>Programs may read its values: no BPF_F_WRONLY_PROG.</summary>
    public bool ProgramsMayRead => (Flags & BpfMapFlags.WriteOnlyProg) == 0;

    /// <summary>For array_of_maps / hash_of_maps: the template every inner map must match (from the BTF
    /// <c>__array(values, struct {...})</c> member, as libbpf reads it).</summary>
    public BpfMapDefinition? InnerMap { get; init; }

    /// <summary>For maps of maps: the slots libbpf's <c>.values = { [i] = &amp;inner }</c> fills at load (key i, a u32).</summary>
    public IReadOnlyList<(int Slot, string Map)> InitialInnerMaps { get; init; } = [];

    /// <summary>For prog arrays: the slots libbpf's <c>.values = { [i] = &amp;prog }</c> fills at load, with the index
    /// of that program in the object (what a prog array's value is here).</summary>
    public IReadOnlyList<(int Slot, int Program)> InitialPrograms { get; init; } = [];

    /// <summary>The program names the prog-array initialiser gives, before the loader resolves them to <see cref="InitialPrograms"/>.</summary>
    internal IReadOnlyList<(int Slot, string Program)> InitialProgramNames { get; init; } = [];

    /// <summary>Byte offset of the value's <c>struct bpf_spin_lock</c> (from the value's BTF), or -1 when it has none.</summary>
    public int SpinLockOffset { get; init; } = -1;
}
