using Appliance.Bpf.Maps;
using Appliance.Bpf.Objects;

namespace Appliance.Datapath.Runtime;

/// <summary>One eBPF object file, loaded once however many programs of the config use it: its ELF contents and
/// its live maps (declaration order, as the instructions index them).</summary>
public sealed class RuntimeObject(string path, BpfObject elf, IReadOnlyList<BpfMap> maps)
{
    public string Path { get; } = path;
    public BpfObject Elf { get; } = elf;
    public IReadOnlyList<BpfMap> Maps { get; } = maps;

    public BpfMap? FindMap(string name)
    {
        foreach (var m in Maps)
            if (m.Name == name) return m;
        return null;
    }
}
