using System.Buffers.Binary;
using System.Text;
using Appliance.Bpf.Objects;

namespace Appliance.Bpf.Elf;

/// <summary>A bounds-checked reader for ELF64 little-endian relocatable objects (what clang -target bpf
/// writes). Every offset is checked before it is used; a malformed file gives a
/// <see cref="BpfLoadException"/> that names the file and the section, never another exception.</summary>
public sealed class ElfFile
{
    private readonly byte[] _image;
    private readonly ElfSection[] _sections;
    private ElfSymbol[]? _symbols;

    private ElfFile(string name, byte[] image, ushort machine, ElfSection[] sections)
    {
        FileName = name;
        _image = image;
        Machine = machine;
        _sections = sections;
    }

    /// <summary>The name used in error messages (usually the path).</summary>
    public string FileName { get; }
    public ushort Machine { get; }
    public IReadOnlyList<ElfSection> Sections => _sections;

    /// <summary>Parses the ELF header and the section headers (with names).</summary>
    public static ElfFile Parse(byte[] image, string fileName)
    {
        ReadOnlySpan<byte> s = image;
        if (s.Length < ElfConstants.HeaderSize)
            throw Fail(fileName, $"the file is {s.Length} bytes, shorter than an ELF header (64 bytes); it is truncated or not an object file");
        if (s[0] != 0x7f || s[1] != (byte)'E' || s[2] != (byte)'L' || s[3] != (byte)'F')
            throw Fail(fileName, $"bad magic {s[0]:x2} {s[1]:x2} {s[2]:x2} {s[3]:x2} (expected 7f 45 4c 46 'ELF'); not an ELF object file");
        if (s[4] != ElfConstants.ClassElf64)
            throw Fail(fileName, $"ELF class {s[4]} is not ELFCLASS64 (2); compile with clang -target bpf");
        if (s[5] != ElfConstants.DataLittleEndian)
            throw Fail(fileName, $"ELF data encoding {s[5]} is not little-endian (1); compile with -target bpf (or bpfel), not bpfeb");
        ushort type = U16(s, 16), machine = U16(s, 18);
        if (type != ElfConstants.TypeRelocatable)
            throw Fail(fileName, $"ELF type {type} is not a relocatable object (ET_REL, 1); load the .o that clang -c produced, not a linked file");
        if (machine != ElfConstants.MachineBpf && machine != ElfConstants.MachineNone)
            throw Fail(fileName, $"ELF machine {machine} is not BPF (247); this object was compiled for another CPU (use clang -target bpf)");

        ulong shoff = U64(s, 40);
        ushort shentsize = U16(s, 58), shnum = U16(s, 60), shstrndx = U16(s, 62);
        if (shnum == 0)
            throw Fail(fileName, "the object has no section headers");
        if (shentsize != ElfConstants.SectionHeaderSize)
            throw Fail(fileName, $"section header size {shentsize} is not 64");
        if (!Fits(shoff, (ulong)shnum * ElfConstants.SectionHeaderSize, (ulong)s.Length))
            throw Fail(fileName, $"the section header table ({shnum} headers at offset 0x{shoff:x}) runs past the end of the file ({s.Length} bytes); the file is truncated");
        if (shstrndx >= shnum)
            throw Fail(fileName, $"section name table index {shstrndx} is out of range ({shnum} sections)");

        var raw = new (uint Name, uint Type, ulong Flags, ulong Offset, ulong Size, uint Link, uint Info, ulong EntSize)[shnum];
        for (int i = 0; i < shnum; i++)
        {
            var h = s.Slice((int)shoff + i * ElfConstants.SectionHeaderSize, ElfConstants.SectionHeaderSize);
            raw[i] = (U32(h, 0), U32(h, 4), U64(h, 8), U64(h, 24), U64(h, 32), U32(h, 40), U32(h, 44), U64(h, 56));
            if (raw[i].Type != ElfConstants.SectionNoBits && raw[i].Type != ElfConstants.SectionNull
                && !Fits(raw[i].Offset, raw[i].Size, (ulong)s.Length))
                throw Fail(fileName, $"section #{i}: offset 0x{raw[i].Offset:x} + size 0x{raw[i].Size:x} is past the end of the file ({s.Length} bytes); the file is truncated or corrupt");
        }

        var names = raw[shstrndx];
        if (names.Type != ElfConstants.SectionStrTab)
            throw Fail(fileName, $"section name table (#{shstrndx}) is not a string table (type {names.Type})");
        var nameTable = s.Slice((int)names.Offset, (int)names.Size);
        var sections = new ElfSection[shnum];
        for (int i = 0; i < shnum; i++)
        {
            var r = raw[i];
            string name = ReadString(nameTable, r.Name)
                ?? throw Fail(fileName, $"section #{i}: name offset {r.Name} is outside the section name table ({nameTable.Length} bytes)");
            sections[i] = new ElfSection(i, name, r.Type, r.Flags, r.Offset, r.Size, r.Link, r.Info, r.EntSize);
        }
        return new ElfFile(fileName, image, machine, sections);
    }

    /// <summary>The section's bytes (empty for NOBITS, whose contents are zeros of <see cref="ElfSection.Size"/>).</summary>
    public ReadOnlySpan<byte> Data(ElfSection section) =>
        section.IsNoBits || section.Type == ElfConstants.SectionNull
            ? ReadOnlySpan<byte>.Empty
            : _image.AsSpan((int)section.Offset, (int)section.Size);

    public ElfSection? FindSection(string name)
    {
        foreach (var sec in _sections)
            if (sec.Name == name) return sec;
        return null;
    }

    /// <summary>The section with this index, or an error naming who referred to it.</summary>
    public ElfSection SectionAt(int index, string referrer) =>
        (uint)index < (uint)_sections.Length
            ? _sections[index]
            : throw Error($"{referrer} refers to section #{index}, but the object has only {_sections.Length} sections");

    /// <summary>The symbol table (the single SHT_SYMTAB section), parsed once.</summary>
    public IReadOnlyList<ElfSymbol> Symbols => _symbols ??= ReadSymbols();

    private ElfSymbol[] ReadSymbols()
    {
        ElfSection? symtab = null;
        foreach (var sec in _sections)
            if (sec.Type == ElfConstants.SectionSymTab) { symtab = sec; break; }
        if (symtab is null) return [];
        if (symtab.Size % ElfConstants.SymbolSize != 0)
            throw Error($"{symtab}: size {symtab.Size} is not a multiple of the symbol size (24)");
        var strtab = SectionAt((int)symtab.Link, symtab.ToString());
        if (strtab.Type != ElfConstants.SectionStrTab)
            throw Error($"{symtab}: its string table {strtab} is not a string table");
        var names = Data(strtab);
        var data = Data(symtab);
        int count = data.Length / ElfConstants.SymbolSize;
        var symbols = new ElfSymbol[count];
        for (int i = 0; i < count; i++)
        {
            var e = data.Slice(i * ElfConstants.SymbolSize, ElfConstants.SymbolSize);
            string name = ReadString(names, U32(e, 0))
                ?? throw Error($"{symtab}: symbol #{i} has name offset {U32(e, 0)} outside {strtab} ({names.Length} bytes)");
            byte info = e[4];
            ushort shndx = U16(e, 6);
            var sym = new ElfSymbol(i, name, (byte)(info & 0xf), (byte)(info >> 4), shndx, U64(e, 8), U64(e, 16));
            if (sym.IsSection && name.Length == 0 && shndx < _sections.Length)
                sym = sym with { Name = _sections[shndx].Name };
            symbols[i] = sym;
        }
        return symbols;
    }

    /// <summary>The SHT_REL section that relocates <paramref name="target"/>, or null.</summary>
    public ElfSection? FindRelocationSectionFor(ElfSection target)
    {
        foreach (var sec in _sections)
            if ((sec.Type == ElfConstants.SectionRel || sec.Type == ElfConstants.SectionRela) && sec.Info == (uint)target.Index)
                return sec;
        return null;
    }

    /// <summary>The entries of an SHT_REL section, each checked: symbol index in range, offset inside the
    /// target section.</summary>
    public List<ElfRelocation> ReadRelocations(ElfSection relSection)
    {
        if (relSection.Type == ElfConstants.SectionRela)
            throw Error($"{relSection}: RELA relocations are not used by BPF objects (expected SHT_REL); was this built by clang -target bpf?");
        if (relSection.Size % ElfConstants.RelSize != 0)
            throw Error($"{relSection}: size {relSection.Size} is not a multiple of the Elf64_Rel size (16)");
        var target = SectionAt((int)relSection.Info, relSection.ToString());
        var symbols = Symbols;
        var data = Data(relSection);
        var result = new List<ElfRelocation>(data.Length / ElfConstants.RelSize);
        for (int i = 0; i < data.Length / ElfConstants.RelSize; i++)
        {
            var e = data.Slice(i * ElfConstants.RelSize, ElfConstants.RelSize);
            ulong offset = U64(e, 0), info = U64(e, 8);
            ulong symIndex = info >> 32;
            uint type = (uint)info;
            if (symIndex >= (ulong)symbols.Count)
                throw Error($"{relSection} entry {i}: symbol index {symIndex} is out of range (the symbol table has {symbols.Count} symbols)");
            if (offset >= target.Size)
                throw Error($"{relSection} entry {i}: offset 0x{offset:x} is outside {target} ({target.Size} bytes)");
            result.Add(new ElfRelocation(offset, symbols[(int)symIndex], type));
        }
        return result;
    }

    public BpfLoadException Error(string what) => Fail(FileName, what);

    private static BpfLoadException Fail(string file, string what) => new($"{file}: {what}");

    private static bool Fits(ulong offset, ulong size, ulong length) => offset <= length && size <= length - offset;

    /// <summary>A NUL-terminated string at <paramref name="offset"/>, or null when out of range.</summary>
    internal static string? ReadString(ReadOnlySpan<byte> table, uint offset)
    {
        if (offset >= (uint)table.Length) return offset == 0 ? "" : null;
        var rest = table[(int)offset..];
        int end = rest.IndexOf((byte)0);
        if (end < 0) return null;
        return Encoding.UTF8.GetString(rest[..end]);
    }

    private static ushort U16(ReadOnlySpan<byte> s, int o) => BinaryPrimitives.ReadUInt16LittleEndian(s[o..]);
    private static uint U32(ReadOnlySpan<byte> s, int o) => BinaryPrimitives.ReadUInt32LittleEndian(s[o..]);
    private static ulong U64(ReadOnlySpan<byte> s, int o) => BinaryPrimitives.ReadUInt64LittleEndian(s[o..]);
}
