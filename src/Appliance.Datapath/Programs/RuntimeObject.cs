using Appliance.Bpf.Maps;
using Appliance.Bpf.Objects;
using Appliance.Bpf.Vm;

namespace Appliance.Datapath.Programs;

/// <summary>One eBPF object file, loaded once however many programs of the config use it: its bytes and their hash
/// (XxHash128; a reload re-loads the object only when the bytes changed), its ELF contents, its live maps (declaration order, as
/// the instructions index them) and its verified programs by ELF program index.</summary>
public sealed class RuntimeObject(string path, string hash, byte[] bytes, BpfObject elf, IReadOnlyList<BpfMap> maps)
{
    public string Path { get; } = path;
    public string Hash { get; } = hash;
    internal byte[] Bytes { get; } = bytes;
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
