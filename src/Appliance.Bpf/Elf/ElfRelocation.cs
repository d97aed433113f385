namespace Appliance.Bpf.Elf;

/// <summary>One Elf64_Rel entry: the byte offset it patches in the target section, its symbol and type.</summary>
public readonly record struct ElfRelocation(ulong Offset, ElfSymbol Symbol, uint Type);
