namespace Appliance.Bpf.Elf;

/// <summary>One section header, with its resolved name. <see cref="Offset"/> and <see cref="Size"/> were
/// checked against the file when it was read (NOBITS sections occupy no file bytes).</summary>
public sealed record ElfSection(int Index, string Name, uint Type, ulong Flags, ulong Offset, ulong Size,
    uint Link, uint Info, ulong EntrySize)
{
    public bool IsExecutable => (Flags & ElfConstants.FlagExecInstr) != 0 && Type == ElfConstants.SectionProgBits;
    public bool IsAllocated => (Flags & ElfConstants.FlagAlloc) != 0;
    public bool IsNoBits => Type == ElfConstants.SectionNoBits;

    public override string ToString() => $"section '{Name}' (#{Index})";
}
