using Appliance.Bpf.Elf;
using Appliance.Bpf.Maps;
using Appliance.Bpf.Objects;

namespace Appliance.Bpf.Btf;

/// <summary>Reads BTF-defined maps (`SEC(".maps")`) the way libbpf's parse_btf_map_def does: the
/// numbers live only in BTF, as array sizes of pointer-typed members (`__uint(name, N)` is
/// `int (*name)[N]`) and as pointee sizes (`__type(key, T)` is `T *key`).</summary>
public static class BtfMapReader
{
    /// <summary>The maps of <paramref name="mapsSection"/> in DATASEC order. Each map's offset comes from its
    /// ELF symbol (clang leaves DATASEC offsets at 0 for libbpf to fix up, so BTF alone cannot place them).</summary>
    public static List<DeclaredMap> Read(BtfTypes btf, ElfFile elf, ElfSection mapsSection)
    {
        string fileName = elf.FileName;
        int datasec = btf.FindDataSec(mapsSection.Name);
        if (datasec == 0)
            throw new BpfLoadException($"{fileName}: {mapsSection} has no DATASEC in .BTF, so its maps cannot be read");
        var maps = new List<DeclaredMap>();
        var initialisers = new List<(int Map, int ValuesOffset)>();
        foreach (var entry in btf.Members(datasec))
        {
            string where = $"{fileName}: map '{entry.Name}' in {mapsSection}";
            if (btf.Kind(entry.TypeId) != BtfKind.Var)
                throw new BpfLoadException($"{where}: DATASEC entry is a {btf.Kind(entry.TypeId)}, expected a VAR");
            int structId = btf.SkipModifiers(btf.RefType(entry.TypeId));
            if (btf.Kind(structId) != BtfKind.Struct)
                throw new BpfLoadException($"{where}: its type is a {btf.Kind(structId)}, expected a struct of __uint/__type members");
            var def = ReadDefinition(btf, structId, entry.Name, where, inner: false, out int valuesOffset);
            maps.Add(new DeclaredMap(def, mapsSection.Index, SymbolOffset(elf, mapsSection, entry.Name, where)));
            if (valuesOffset >= 0) initialisers.Add((maps.Count - 1, valuesOffset));
        }
        ReadInnerMapSlots(elf, mapsSection, maps, initialisers);
        return maps;
    }

    /// <summary>libbpf's static map-in-map and prog-array initialisation: each relocation in the maps section that
    /// lands in an outer map's <c>values</c> array names the inner map (or, in a prog array, the program) of slot
    /// (offset - values offset) / 8.</summary>
    private static void ReadInnerMapSlots(ElfFile elf, ElfSection mapsSection, List<DeclaredMap> maps, List<(int Map, int ValuesOffset)> initialisers)
    {
        if (initialisers.Count == 0 || elf.FindRelocationSectionFor(mapsSection) is not { } relSection) return;
        var slots = new Dictionary<int, List<(int, string)>>();
        foreach (var relocation in elf.ReadRelocations(relSection))
        {
            foreach (var (index, valuesOffset) in initialisers)
            {
                // `values` is a flexible array at the end of the definition: the initialiser runs on to the next map
                // (for a hash of maps the slot is the key, not bounded by max_entries).
                var outer = maps[index];
                ulong start = outer.Offset + (ulong)valuesOffset;
                ulong end = maps.Where(m => m.Offset > outer.Offset).Select(m => m.Offset).DefaultIfEmpty(mapsSection.Size).Min();
                if (relocation.Offset < start || relocation.Offset >= end) continue;
                string where = $"{elf.FileName}: map '{outer.Definition.Name}' in {mapsSection}";
                if ((relocation.Offset - start) % 8 != 0) throw new BpfLoadException($"{where}: a `values` initialiser is not on a pointer slot");
                int slot = (int)((relocation.Offset - start) / 8);
                if (outer.Definition.Type == BpfMapType.ArrayOfMaps && slot >= outer.Definition.MaxEntries)
                    throw new BpfLoadException($"{where}: `values` slot {slot} is beyond max_entries {outer.Definition.MaxEntries}");
                string inner = relocation.Symbol.Name;
                if (outer.Definition.Type == BpfMapType.ProgArray)
                {
                    if (slot >= outer.Definition.MaxEntries)
                        throw new BpfLoadException($"{where}: `values` slot {slot} is beyond max_entries {outer.Definition.MaxEntries}");
                    (slots.TryGetValue(index, out var programs) ? programs : slots[index] = []).Add((slot, inner));
                    continue;
                }
                if (!maps.Any(m => m.Definition.Name == inner))
                    throw new BpfLoadException($"{where}: `values` slot {slot} names {relocation.Symbol}, which is not a map of {mapsSection}");
                (slots.TryGetValue(index, out var list) ? list : slots[index] = []).Add((slot, inner));
            }
        }
        foreach (var (index, list) in slots)
            maps[index] = maps[index] with
            {
                Definition = maps[index].Definition.Type == BpfMapType.ProgArray
                    ? maps[index].Definition with { InitialProgramNames = list }
                    : maps[index].Definition with { InitialInnerMaps = list },
            };
    }

    private static ulong SymbolOffset(ElfFile elf, ElfSection section, string name, string where)
    {
        foreach (var sym in elf.Symbols)
            if (sym.SectionIndex == section.Index && sym.Name == name && !sym.IsSection)
                return sym.Value < section.Size || section.Size == 0
                    ? sym.Value
                    : throw new BpfLoadException($"{where}: its symbol's offset {sym.Value} is outside the section ({section.Size} bytes)");
        foreach (var sym in elf.Symbols)
            if (sym.IsUndefined && sym.Name == name)
                throw new BpfLoadException($"{where}: the map is declared extern (defined in another object file); the appliance loads one object: "
                    + "link the objects into one first (bpftool gen object)");
        throw new BpfLoadException($"{where}: no ELF symbol named '{name}' in the section, so relocations cannot find the map");
    }

    /// <param name="inner">Reading an outer map's inner template: it may not be a map of maps itself, which is refused
    /// before its own template is read (a struct naming itself in `values` would recurse without end).</param>
    private static BpfMapDefinition ReadDefinition(BtfTypes btf, int structId, string name, string where, bool inner, out int valuesOffset)
    {
        uint? type = null, flags = null, maxEntries = null, keySize = null, valueSize = null;
        int spinLock = -1;
        BtfMember? values = null;
        valuesOffset = -1;
        foreach (var m in btf.Members(structId))
        {
            switch (m.Name)
            {
                case "type": type = Int(btf, m, where); break;
                case "max_entries": maxEntries = Int(btf, m, where); break;
                case "map_flags": flags = Int(btf, m, where); break;
                case "key_size": keySize = Same(keySize, Int(btf, m, where), "key", where); break;
                case "value_size": valueSize = Same(valueSize, Int(btf, m, where), "value", where); break;
                case "key": keySize = Same(keySize, PointeeSize(btf, m, where), "key", where); break;
                case "value":
                    valueSize = Same(valueSize, PointeeSize(btf, m, where), "value", where);
                    spinLock = SpinLockOffset(btf, btf.RefType(btf.SkipModifiers(m.TypeId)), where);
                    break;
                case "values": values = m; break;
                case "pinning" or "numa_node" or "map_extra":
                    break; // pinning and NUMA placement mean nothing here
                default:
                    throw new BpfLoadException($"{where}: unknown map attribute '{m.Name}'");
            }
        }
        if (type is null)
            throw new BpfLoadException($"{where}: no __uint(type, ...) member");
        var mapType = DeclaredMap.CheckType(type.Value, where);
        if (inner && mapType is BpfMapType.ArrayOfMaps or BpfMapType.HashOfMaps or BpfMapType.ProgArray)
            throw new BpfLoadException($"{where}: an inner map cannot be a {mapType} (as in the kernel)");
        BpfMapDefinition? innerMap = null;
        if (mapType is BpfMapType.ArrayOfMaps or BpfMapType.HashOfMaps)
        {
            // __array(values, struct {...}): an array of pointers to the inner map's definition; the outer value is
            // a map reference (4 bytes, an fd in the kernel), as libbpf sets it.
            if (values is not { } v) throw new BpfLoadException($"{where}: a map of maps needs __array(values, struct {{...}}) to describe its inner map");
            int array = btf.SkipModifiers(v.TypeId);
            int ptr = btf.Kind(array) == BtfKind.Array ? btf.SkipModifiers(btf.Array(array).ElementType) : 0;
            int innerStruct = btf.Kind(ptr) == BtfKind.Ptr ? btf.SkipModifiers(btf.RefType(ptr)) : 0;
            if (btf.Kind(innerStruct) != BtfKind.Struct)
                throw new BpfLoadException($"{where}: `values` must be __array(values, struct {{...}}), an array of pointers to the inner map's definition");
            innerMap = ReadDefinition(btf, innerStruct, name + ".inner", where + " (inner map)", inner: true, out _);
            if (BpfMapTypeNames.WhyUnsupported(innerMap.Type) is { } unsupported)
                throw new BpfLoadException($"{where} (inner map): {unsupported}");
            valueSize = Same(valueSize, 4, "value", where);
            valuesOffset = (int)(v.BitOffset / 8);
        }
        else if (mapType == BpfMapType.ProgArray && values is { } pv)
        {
            // __array(values, int (void *)): pointers to programs, for the static initialiser; the value is a
            // program reference (4 bytes, an fd in the kernel), as libbpf sets it.
            int array = btf.SkipModifiers(pv.TypeId);
            int ptr = btf.Kind(array) == BtfKind.Array ? btf.SkipModifiers(btf.Array(array).ElementType) : 0;
            if (btf.Kind(ptr) != BtfKind.Ptr || btf.Kind(btf.SkipModifiers(btf.RefType(ptr))) != BtfKind.FuncProto)
                throw new BpfLoadException($"{where}: a prog array's `values` must be __array(values, int (void *)), an array of pointers to programs");
            valueSize = Same(valueSize, 4, "value", where);
            valuesOffset = (int)(pv.BitOffset / 8);
        }
        else if (values is not null)
            throw new BpfLoadException($"{where}: __array(values, ...) is for maps of maps and prog arrays, not a {mapType}");
        return new BpfMapDefinition(name, mapType, ToInt(keySize ?? 0, "key size", where),
            ToInt(valueSize ?? 0, "value size", where), ToInt(maxEntries ?? 0, "max_entries", where), flags ?? 0)
        {
            SpinLockOffset = spinLock,
            InnerMap = innerMap,
        };
    }

    /// <summary>Where the value's top-level <c>struct bpf_spin_lock</c> member starts, or -1 (the kernel's
    /// btf_find_spin_lock: at most one, 4-byte aligned, a direct member of the value struct).</summary>
    private static int SpinLockOffset(BtfTypes btf, int valueType, string where)
    {
        int id = btf.SkipModifiers(valueType);
        if (btf.Kind(id) != BtfKind.Struct) return -1;
        int found = -1;
        foreach (var member in btf.Members(id))
        {
            int t = btf.SkipModifiers(member.TypeId);
            if (btf.Kind(t) != BtfKind.Struct || btf.Name(t) != "bpf_spin_lock") continue;
            if (found >= 0) throw new BpfLoadException($"{where}: the value has more than one struct bpf_spin_lock (the kernel allows one)");
            if (member.BitOffset % 32 != 0) throw new BpfLoadException($"{where}: the value's struct bpf_spin_lock is not 4-byte aligned");
            found = (int)(member.BitOffset / 8);
        }
        return found;
    }

    /// <summary>`__uint(name, N)`: the member is a pointer to an array of N ints.</summary>
    private static uint Int(BtfTypes btf, BtfMember m, string where)
    {
        int ptr = btf.SkipModifiers(m.TypeId);
        if (btf.Kind(ptr) != BtfKind.Ptr)
            throw new BpfLoadException($"{where}: attribute '{m.Name}' is a {btf.Kind(ptr)}, expected __uint() (a pointer to an array)");
        int array = btf.SkipModifiers(btf.RefType(ptr));
        if (btf.Kind(array) != BtfKind.Array)
            throw new BpfLoadException($"{where}: attribute '{m.Name}' points to a {btf.Kind(array)}, expected __uint() (a pointer to an array)");
        return btf.Array(array).Count;
    }

    /// <summary>`__type(name, T)`: the member is a pointer to T.</summary>
    private static uint PointeeSize(BtfTypes btf, BtfMember m, string where)
    {
        int ptr = btf.SkipModifiers(m.TypeId);
        if (btf.Kind(ptr) != BtfKind.Ptr)
            throw new BpfLoadException($"{where}: attribute '{m.Name}' is a {btf.Kind(ptr)}, expected __type() (a pointer)");
        long size = btf.SizeOf(btf.RefType(ptr));
        if (size <= 0 || size > int.MaxValue)
            throw new BpfLoadException($"{where}: the {m.Name} type has size {size}");
        return (uint)size;
    }

    private static uint Same(uint? earlier, uint now, string what, string where) =>
        earlier is null || earlier == now
            ? now
            : throw new BpfLoadException($"{where}: {what} size {now} conflicts with {what}_size {earlier}");

    private static int ToInt(uint v, string what, string where) =>
        v <= int.MaxValue ? (int)v : throw new BpfLoadException($"{where}: {what} {v} is too large");
}
