using Appliance.Bpf.Elf;

namespace Appliance.Bpf.Objects;

/// <summary>Finds the map an `lddw` relocation refers to: a map symbol (BTF `.maps` or legacy `maps`,
/// matched by section and offset, as libbpf does), a global variable (its section's data map) or a <c>__kconfig</c>
/// extern (its place in the <c>.kconfig</c> map).</summary>
public sealed class MapLocator
{
    private readonly Dictionary<(int Section, ulong Offset), int> _maps = new();
    private readonly Dictionary<int, int> _globals = new();
    private readonly HashSet<int> _mapSections = new();
    private readonly Dictionary<int, string> _unusable = new();
    private readonly Dictionary<string, int> _kconfig = new(StringComparer.Ordinal);
    private int _kconfigMap = -1;

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

    /// <summary>The object's <c>__kconfig</c> externs, each a place in the value of map <paramref name="index"/>.</summary>
    public void AddKconfig(IReadOnlyList<KconfigExtern> externs, int index)
    {
        foreach (var e in externs) _kconfig[e.Name] = e.Offset;
        _kconfigMap = index;
    }

    /// <summary>An undefined symbol that is a <c>__kconfig</c> extern: the <c>.kconfig</c> map and its offset there.</summary>
    public bool TryFindKconfig(ElfSymbol symbol, out int index, out int offset)
    {
        index = _kconfigMap;
        return _kconfig.TryGetValue(symbol.Name, out offset) && symbol.IsUndefined;
    }

    public bool IsMapSection(int section) => _mapSections.Contains(section);

    public bool TryFindMap(ElfSymbol symbol, out int index) =>
        _maps.TryGetValue((symbol.SectionIndex, symbol.Value), out index);

    public bool TryFindGlobalData(ElfSymbol symbol, out int index) => _globals.TryGetValue(symbol.SectionIndex, out index);
}
