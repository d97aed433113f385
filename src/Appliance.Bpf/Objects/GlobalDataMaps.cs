using Appliance.Bpf.Elf;
using Appliance.Bpf.Maps;

namespace Appliance.Bpf.Objects;

/// <summary>Global variables, as libbpf maps them: each non-empty `.data*`, `.rodata*` and `.bss*`
/// section becomes a one-entry array map named after the section, whose single value is the section's
/// bytes (zeros for `.bss`). `.rodata*` maps are read-only for programs (BPF_F_RDONLY_PROG) and frozen.</summary>
public static class GlobalDataMaps
{
    /// <summary>BPF_F_RDONLY_PROG: programs may read the map but not write it.</summary>
    public const uint ReadOnlyProgramFlag = 0x80;

    /// <summary>The largest array value the kernel makes (array_map_alloc_check: KMALLOC_MAX_SIZE with 4 KiB pages).</summary>
    private const ulong MaxValueSize = 4 << 20;

    public static bool IsGlobalDataSection(ElfSection s) =>
        s.IsAllocated && !s.IsExecutable && (s.Type == ElfConstants.SectionProgBits || s.IsNoBits)
        && (Is(s.Name, ".data") || Is(s.Name, ".rodata") || Is(s.Name, ".bss"));

    public static DeclaredMap Create(ElfFile elf, ElfSection section)
    {
        // Checked before the bytes are made: a .bss takes no room in the file, so a small file can claim any size.
        if (section.Size > MaxValueSize)
            throw elf.Error($"{section}: {section.Size} bytes of global data is more than the 4 MiB a map value may hold (the kernel's KMALLOC_MAX_SIZE)");
        bool readOnly = Is(section.Name, ".rodata");
        var initial = section.IsNoBits ? new byte[section.Size] : elf.Data(section).ToArray();
        var def = new BpfMapDefinition(section.Name, BpfMapType.Array, 4, (int)section.Size, 1,
            readOnly ? ReadOnlyProgramFlag : 0)
        {
            InitialValue = initial,
            ReadOnly = readOnly,
        };
        return new DeclaredMap(def, section.Index, 0);
    }

    private static bool Is(string name, string prefix) =>
        name == prefix || (name.StartsWith(prefix, StringComparison.Ordinal) && name[prefix.Length] == '.');
}
