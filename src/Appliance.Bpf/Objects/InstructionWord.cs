namespace Appliance.Bpf.Objects;

/// <summary>Field access on a raw 64-bit instruction as stored little-endian: opcode (byte 0),
/// dst (low nibble of byte 1), src (high nibble of byte 1), offset (bytes 2–3), imm (bytes 4–7).</summary>
internal static class InstructionWord
{
    public const byte LoadImm64 = 0x18;   // BPF_LD | BPF_IMM | BPF_DW
    public const byte Call = 0x85;        // BPF_JMP | BPF_CALL
    public const byte PseudoCall = 1;     // src of a bpf-to-bpf call
    public const byte PseudoMapFd = 1;    // BPF_PSEUDO_MAP_FD
    public const byte PseudoMapValue = 2; // BPF_PSEUDO_MAP_VALUE
    public const byte PseudoFunc = 4;     // BPF_PSEUDO_FUNC

    public static byte Opcode(ulong insn) => (byte)insn;
    public static byte Src(ulong insn) => (byte)((insn >> 12) & 0xf);
    public static int Imm(ulong insn) => (int)(insn >> 32);

    public static ulong WithSrc(ulong insn, byte src) => (insn & ~0xf000UL) | ((ulong)(src & 0xf) << 12);
    public static ulong WithImm(ulong insn, int imm) => (insn & 0xffffffffUL) | ((ulong)(uint)imm << 32);

    public static bool IsPseudoCall(ulong insn) => Opcode(insn) == Call && Src(insn) == PseudoCall;
}
