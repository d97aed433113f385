using Appliance.Bpf.Maps;
using Appliance.Bpf.Objects;
using Appliance.Bpf.Vm;

namespace Appliance.Datapath.Runtime;

/// <summary>One eBPF object file, loaded once however many programs of the config use it: its ELF contents, the
/// SHA-256 of its bytes (a reload re-loads the object only when that changed), its live maps (declaration order, as
/// the instructions index them) and its verified programs by ELF program index.</summary>
public sealed class RuntimeObject(string path, string hash, BpfObject elf, IReadOnlyList<BpfMap> maps)
{
    public string Path { get; } = path;
    public string Hash { get; } = hash;
    public BpfObject Elf { get; } = elf;
    public IReadOnlyList<BpfMap> Maps { get; } = maps;
    internal LoadedProgram?[] Loaded { get; } = new LoadedProgram?[elf.Programs.Count];

    public BpfMap? FindMap(string name)
    {
        foreach (var m in Maps)
            if (m.Name == name) return m;
        return null;
    }
}
