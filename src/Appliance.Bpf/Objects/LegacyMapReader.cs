using System.Buffers.Binary;
using Appliance.Bpf.Elf;
using Appliance.Bpf.Maps;

namespace Appliance.Bpf.Objects;

/// <summary>Legacy `SEC("maps")` definitions: one `struct bpf_map_def { u32 type, key_size, value_size,
/// max_entries, map_flags; … }` per symbol; the record size is the section size divided by the number
/// of symbols (as libbpf before 1.0 and PREVAIL do).</summary>
public static class LegacyMapReader
{
    private const int MinimumRecord = 20;

    public static bool IsLegacyMapSection(ElfSection s) => s.Name == "maps" || s.Name.StartsWith("maps/", StringComparison.Ordinal);

    public static List<DeclaredMap> Read(ElfFile elf, ElfSection section)
    {
        var symbols = new List<ElfSymbol>();
        foreach (var sym in elf.Symbols)
            if (sym.SectionIndex == section.Index && !sym.IsSection && sym.Name.Length > 0)
                symbols.Add(sym);
        symbols.Sort((a, b) => a.Value.CompareTo(b.Value));
        var maps = new List<DeclaredMap>(symbols.Count);
        if (symbols.Count == 0) return maps;

        var data = elf.Data(section);
        ulong record = section.Size / (ulong)symbols.Count;
        if (record < MinimumRecord || section.Size % (ulong)symbols.Count != 0)
            throw elf.Error($"{section}: {section.Size} bytes for {symbols.Count} map symbols is not a whole number of struct bpf_map_def records (at least {MinimumRecord} bytes each)");
        foreach (var sym in symbols)
        {
            string where = $"{elf.FileName}: legacy map '{sym.Name}' in {section}";
            if (sym.Value % record != 0 || sym.Value + (ulong)MinimumRecord > (ulong)data.Length)
                throw new BpfLoadException($"{where}: symbol offset {sym.Value} is not the start of a {record}-byte record");
            var r = data.Slice((int)sym.Value, MinimumRecord);
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(r);
            var def = new BpfMapDefinition(sym.Name, DeclaredMap.CheckType(type, where),
                Checked(BinaryPrimitives.ReadUInt32LittleEndian(r[4..]), "key_size", where),
                Checked(BinaryPrimitives.ReadUInt32LittleEndian(r[8..]), "value_size", where),
                Checked(BinaryPrimitives.ReadUInt32LittleEndian(r[12..]), "max_entries", where),
                BinaryPrimitives.ReadUInt32LittleEndian(r[16..]));
            maps.Add(new DeclaredMap(def, section.Index, sym.Value));
        }
        return maps;
    }

    private static int Checked(uint v, string what, string where) =>
        v <= int.MaxValue ? (int)v : throw new BpfLoadException($"{where}: {what} {v} is too large");
}
