namespace Appliance.Bpf.Elf;

/// <summary>One Elf64_Sym with its resolved name.</summary>
public sealed record ElfSymbol(int Index, string Name, byte Type, byte Binding, ushort SectionIndex, ulong Value, ulong Size)
{
    public bool IsFunction => Type == ElfConstants.SymbolFunc;
    public bool IsSection => Type == ElfConstants.SymbolSection;
    public bool IsUndefined => SectionIndex == ElfConstants.SectionIndexUndefined;

    /// <summary>STB_WEAK: an extern declared <c>__weak</c>, which libbpf leaves unresolved (address 0) when the kernel lacks it.</summary>
    public bool IsWeak => Binding == 2;

    public override string ToString() => Name.Length > 0 ? $"symbol '{Name}'" : $"symbol #{Index}";
}
