using Appliance.Bpf.Maps;

namespace Appliance.Bpf.Objects;

/// <summary>A loaded object file: its programs and the maps they share.</summary>
public sealed class BpfObject
{
    public BpfObject(string path, IReadOnlyList<BpfProgramImage> programs, IReadOnlyList<BpfMapDefinition> maps, string license)
    {
        Path = path;
        Programs = programs;
        Maps = maps;
        License = license;
    }

    public string Path { get; }
    public IReadOnlyList<BpfProgramImage> Programs { get; }

    /// <summary>Maps in declaration order; instructions refer to them by index (see <see cref="BpfProgramImage"/>).</summary>
    public IReadOnlyList<BpfMapDefinition> Maps { get; }

    public string License { get; }
}

/// <summary>One program, linked and ready to verify: its sub-programs (bpf-to-bpf calls) are appended and
/// the call offsets fixed, as libbpf does. Map references are kernel-style `lddw` pseudo instructions
/// whose imm is an index into <see cref="BpfObject.Maps"/>: src = 1 (BPF_PSEUDO_MAP_FD, the map itself)
/// or src = 2 (BPF_PSEUDO_MAP_VALUE, the address of the value of entry 0 plus the next slot's imm as offset).</summary>
public sealed record BpfProgramImage(string Name, string Section, ulong[] Instructions)
{
    /// <summary>Why the program cannot load although its object did (an extern it uses, a CO-RE relocation on a
    /// type the appliance lacks, in its code), or null; the verifier refuses it with this reason.</summary>
    public string? Refusal { get; init; }

    /// <summary>Instructions a CO-RE relocation could not resolve (a field or type the appliance lacks), with why:
    /// libbpf poisons them, and the kernel refuses the program only where a path reaches one — a read guarded by
    /// bpf_core_field_exists() or bpf_core_type_exists(), which give 0 here, is never reached. The verifier refuses
    /// the program where a path it follows reaches one.</summary>
    public IReadOnlyDictionary<int, string> Poisoned { get; init; } = new Dictionary<int, string>();

    /// <summary>Where each global function the program calls starts in <see cref="Instructions"/>, with its number of
    /// arguments (<see cref="Btf.GlobalFunctions"/>): the kernel checks what a call hands such a function against its
    /// declared arguments. Empty for an object without BTF function info, whose functions the kernel takes as static.</summary>
    public IReadOnlyDictionary<int, int> GlobalFunctions { get; init; } = new Dictionary<int, int>();
}
