namespace Appliance.Bpf.Elf;

/// <summary>The ELF64 values the loader checks (System V gABI, include/uapi/linux/elf.h).</summary>
public static class ElfConstants
{
    public const int HeaderSize = 64, SectionHeaderSize = 64, SymbolSize = 24, RelSize = 16;
    public const byte ClassElf64 = 2, DataLittleEndian = 1;
    public const ushort TypeRelocatable = 1;
    public const ushort MachineNone = 0, MachineBpf = 247;

    public const uint SectionNull = 0, SectionProgBits = 1, SectionSymTab = 2, SectionStrTab = 3,
        SectionRela = 4, SectionNoBits = 8, SectionRel = 9;

    public const ulong FlagWrite = 0x1, FlagAlloc = 0x2, FlagExecInstr = 0x4;

    public const byte SymbolNoType = 0, SymbolObject = 1, SymbolFunc = 2, SymbolSection = 3;
    public const ushort SectionIndexUndefined = 0, SectionIndexAbs = 0xfff1, SectionIndexCommon = 0xfff2;

    /// <summary>Relocation types of the BPF target (llvm/BinaryFormat/ELFRelocs/BPF.def).</summary>
    public const uint RelocBpfNone = 0, RelocBpf64_64 = 1, RelocBpf64Abs64 = 2, RelocBpf64Abs32 = 3,
        RelocBpf64NoDyld32 = 4, RelocBpf64_32 = 10;
}
