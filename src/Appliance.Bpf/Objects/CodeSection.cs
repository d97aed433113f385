using System.Buffers.Binary;
using Appliance.Bpf.Elf;

namespace Appliance.Bpf.Objects;

/// <summary>An executable section: its instructions, its functions (split by STT_FUNC symbols) and its
/// relocations by instruction index.</summary>
public sealed class CodeSection
{
    private CodeSection(ElfSection section, ulong[] instructions, List<BpfFunction> functions,
        Dictionary<int, ElfRelocation> relocations)
    {
        Section = section;
        Instructions = instructions;
        Functions = functions;
        Relocations = relocations;
    }

    public ElfSection Section { get; }
    public ulong[] Instructions { get; }
    public IReadOnlyList<BpfFunction> Functions { get; }
    public IReadOnlyDictionary<int, ElfRelocation> Relocations { get; }

    public static CodeSection Read(ElfFile elf, ElfSection section)
    {
        if (section.Size % 8 != 0)
            throw elf.Error($"{section}: size {section.Size} is not a whole number of 8-byte instructions");
        var bytes = elf.Data(section);
        var insns = new ulong[bytes.Length / 8];
        for (int i = 0; i < insns.Length; i++)
            insns[i] = BinaryPrimitives.ReadUInt64LittleEndian(bytes[(i * 8)..]);

        var relocations = new Dictionary<int, ElfRelocation>();
        if (elf.FindRelocationSectionFor(section) is { } rel)
        {
            foreach (var r in elf.ReadRelocations(rel))
            {
                if (r.Offset % 8 != 0)
                    throw elf.Error($"{rel}: relocation at byte 0x{r.Offset:x} is not on an instruction boundary");
                if (!relocations.TryAdd((int)(r.Offset / 8), r))
                    throw elf.Error($"{rel}: two relocations for instruction {r.Offset / 8}");
            }
        }
        return new CodeSection(section, insns, FindFunctions(elf, section, insns.Length), relocations);
    }

    /// <summary>The function that holds instruction <paramref name="index"/>, or null.</summary>
    public BpfFunction? FunctionAt(int index)
    {
        foreach (var f in Functions)
            if (f.Contains(index)) return f;
        return null;
    }

    private static List<BpfFunction> FindFunctions(ElfFile elf, ElfSection section, int count)
    {
        var symbols = new List<ElfSymbol>();
        foreach (var sym in elf.Symbols)
            if (sym.IsFunction && sym.SectionIndex == section.Index)
                symbols.Add(sym);
        symbols.Sort((a, b) => a.Value.CompareTo(b.Value));

        var functions = new List<BpfFunction>(symbols.Count);
        if (symbols.Count == 0)
        {
            if (count > 0) functions.Add(new BpfFunction(section.Name, section, 0, count));
            return functions;
        }
        for (int i = 0; i < symbols.Count; i++)
        {
            var sym = symbols[i];
            if (sym.Value % 8 != 0 || sym.Value / 8 >= (ulong)count)
                throw elf.Error($"{section}: function {sym} starts at byte 0x{sym.Value:x}, outside the section's {count} instructions");
            int start = (int)(sym.Value / 8);
            int end = i + 1 < symbols.Count ? (int)(symbols[i + 1].Value / 8) : count;
            if (sym.Size > 0)
            {
                if (sym.Size % 8 != 0 || sym.Value + sym.Size > (ulong)count * 8)
                    throw elf.Error($"{section}: function {sym} (0x{sym.Value:x}, {sym.Size} bytes) runs past the section's end");
                end = Math.Min(end, start + (int)(sym.Size / 8));
            }
            if (end > start)
                functions.Add(new BpfFunction(sym.Name, section, start, end - start));
        }
        return functions;
    }
}
