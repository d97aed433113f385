using Appliance.Bpf.Elf;
using Appliance.Bpf.Maps;

namespace Appliance.Bpf.Objects;

/// <summary>Global variables, as libbpf maps them: each non-empty `.data*`, `.rodata*` and `.bss*`
/// section becomes a one-entry array map named after the section, whose single value is the section's
/// bytes (zeros for `.bss`). `.rodata*` maps are read-only for programs (BPF_F_RDONLY_PROG) and frozen.</summary>
public static class GlobalDataMaps
{
    /// <summary>The most global data one section may hold here: a bound of ours (older kernels' largest array value,
    /// KMALLOC_MAX_SIZE with 4 KiB pages; 6.18 takes larger), since a `.bss` takes no room in the file.</summary>
    internal const ulong MaxValueSize = 4 << 20;

    public static bool IsGlobalDataSection(ElfSection s) =>
        s.IsAllocated && !s.IsExecutable && (s.Type == ElfConstants.SectionProgBits || s.IsNoBits)
        && (Is(s.Name, ".data") || Is(s.Name, ".rodata") || Is(s.Name, ".bss"));

    public static DeclaredMap Create(ElfFile elf, ElfSection section)
    {
        // Checked before the bytes are made: a .bss takes no room in the file, so a small file can claim any size.
        if (section.Size > MaxValueSize)
            throw elf.Error($"{section}: {section.Size} bytes of global data is more than the 4 MiB a section may hold here (a bound against objects claiming a huge .bss)");
        bool readOnly = Is(section.Name, ".rodata");
        var initial = section.IsNoBits ? new byte[section.Size] : elf.Data(section).ToArray();
        var def = new BpfMapDefinition(section.Name, BpfMapType.Array, 4, (int)section.Size, 1,
            readOnly ? BpfMapFlags.ReadOnlyProg : 0)
        {
            InitialValue = initial,
            Frozen = readOnly,
        };
        return new DeclaredMap(def, section.Index, 0);
    }

    private static bool Is(string name, string prefix) =>
        name == prefix || (name.StartsWith(prefix, StringComparison.Ordinal) && name[prefix.Length] == '.');
}
