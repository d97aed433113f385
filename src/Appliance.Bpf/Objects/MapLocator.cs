using Appliance.Bpf.Elf;

namespace Appliance.Bpf.Objects;

/// <summary>Finds the map an `lddw` relocation refers to: a map symbol (BTF `.maps` or legacy `maps`,
/// matched by section and offset, as libbpf does) or a global variable (its section's data map).</summary>
public sealed class MapLocator
{
    private readonly Dictionary<(int Section, ulong Offset), int> _maps = new();
    private readonly Dictionary<int, int> _globals = new();
    private readonly HashSet<int> _mapSections = new();
    private readonly Dictionary<int, string> _unusable = new();

    public void AddMap(DeclaredMap map, int index)
    {
        _mapSections.Add(map.SectionIndex);
        _maps[(map.SectionIndex, map.Offset)] = index;
        if (Maps.BpfMapTypeNames.WhyUnsupported(map.Definition.Type) is { } why)
            _unusable[index] = $"it uses map '{map.Definition.Name}': {why}";
    }

    /// <summary>Why a program that uses map <paramref name="index"/> cannot load (a type the appliance does not have), or null.</summary>
    public string? WhyUnusable(int index) => _unusable.GetValueOrDefault(index);

    public void AddGlobalData(DeclaredMap map, int index) => _globals[map.SectionIndex] = index;

    public bool IsMapSection(int section) => _mapSections.Contains(section);

    public bool TryFindMap(ElfSymbol symbol, out int index) =>
        _maps.TryGetValue((symbol.SectionIndex, symbol.Value), out index);

    public bool TryFindGlobalData(ElfSymbol symbol, out int index) => _globals.TryGetValue(symbol.SectionIndex, out index);
}
