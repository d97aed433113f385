namespace Appliance.Bpf.Elf;

/// <summary>One Elf64_Sym with its resolved name.</summary>
public sealed record ElfSymbol(int Index, string Name, byte Type, byte Binding, ushort SectionIndex, ulong Value, ulong Size)
{
    public bool IsFunction => Type == ElfConstants.SymbolFunc;
    public bool IsSection => Type == ElfConstants.SymbolSection;
    public bool IsUndefined => SectionIndex == ElfConstants.SectionIndexUndefined;

    public override string ToString() => Name.Length > 0 ? $"symbol '{Name}'" : $"symbol #{Index}";
}
