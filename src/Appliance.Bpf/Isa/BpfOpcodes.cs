namespace Appliance.Bpf.Isa;

/// <summary>Opcode fields of the eBPF instruction set (RFC 9669 §3, plus the v4 extensions): instruction
/// classes, ALU/JMP operation codes, load/store modes and sizes, atomic operation codes and the
/// pseudo source registers of <c>lddw</c> and <c>call</c>.</summary>
public static class BpfOpcodes
{
    // Classes (low 3 bits).
    public const byte ClassLd = 0x00, ClassLdx = 0x01, ClassSt = 0x02, ClassStx = 0x03,
        ClassAlu = 0x04, ClassJmp = 0x05, ClassJmp32 = 0x06, ClassAlu64 = 0x07;

    // Source bit for ALU/JMP.
    public const byte SourceImm = 0x00, SourceReg = 0x08;

    // ALU operation codes (upper nibble).
    public const byte AluAdd = 0x00, AluSub = 0x10, AluMul = 0x20, AluDiv = 0x30, AluOr = 0x40, AluAnd = 0x50,
        AluLsh = 0x60, AluRsh = 0x70, AluNeg = 0x80, AluMod = 0x90, AluXor = 0xa0, AluMov = 0xb0,
        AluArsh = 0xc0, AluEnd = 0xd0;

    // Jump operation codes (upper nibble).
    public const byte JmpJa = 0x00, JmpJeq = 0x10, JmpJgt = 0x20, JmpJge = 0x30, JmpJset = 0x40, JmpJne = 0x50,
        JmpJsgt = 0x60, JmpJsge = 0x70, JmpCall = 0x80, JmpExit = 0x90, JmpJlt = 0xa0, JmpJle = 0xb0,
        JmpJslt = 0xc0, JmpJsle = 0xd0;

    // Load/store sizes and modes.
    public const byte SizeW = 0x00, SizeH = 0x08, SizeB = 0x10, SizeDw = 0x18;
    public const byte ModeImm = 0x00, ModeAbs = 0x20, ModeInd = 0x40, ModeMem = 0x60, ModeMemSx = 0x80, ModeAtomic = 0xc0;

    // Atomic operation codes (imm of an ATOMIC store).
    public const int AtomicAdd = 0x00, AtomicOr = 0x40, AtomicAnd = 0x50, AtomicXor = 0xa0, AtomicFetch = 0x01,
        AtomicXchg = 0xe1, AtomicCmpXchg = 0xf1;

    // Whole opcodes used by name.
    public const byte Lddw = ClassLd | SizeDw | ModeImm;      // 0x18
    public const byte Call = ClassJmp | JmpCall;               // 0x85
    public const byte CallX = ClassJmp | JmpCall | SourceReg;  // 0x8d (register in dst; not in RFC 9669)
    public const byte Exit = ClassJmp | JmpExit;               // 0x95
    public const byte Ja = ClassJmp | JmpJa;                   // 0x05
    public const byte Ja32 = ClassJmp32 | JmpJa;               // 0x06 (gotol, v4)

    // lddw pseudo source registers.
    public const byte PseudoMapFd = 1, PseudoMapValue = 2;
    /// <summary>lddw src 4 (BPF_PSEUDO_FUNC): the address of the function at i + 1 + imm, a callback for bpf_loop or
    /// bpf_for_each_map_elem.</summary>
    public const byte PseudoFunc = 4;

    // call source registers.
    public const byte CallHelper = 0, CallLocal = 1, CallKfunc = 2;

    public static byte Class(byte opcode) => (byte)(opcode & 0x07);
    public static bool IsAlu(byte opcode) => Class(opcode) is ClassAlu or ClassAlu64;
    public static bool IsJump(byte opcode) => Class(opcode) is ClassJmp or ClassJmp32;
    public static int SizeBytes(byte opcode) => (opcode & 0x18) switch { SizeW => 4, SizeH => 2, SizeB => 1, _ => 8 };
}
