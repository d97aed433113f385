using System.Runtime.InteropServices;

namespace Appliance.Bpf.Isa;

/// <summary>One pre-decoded instruction (16 bytes): <see cref="Op"/> is the resolved behaviour,
/// <see cref="Offset"/> the memory offset or, for jumps and local calls, the absolute target index,
/// <see cref="Imm"/> the sign-extended immediate or, for lddw, the full 64-bit value (map references already
/// resolved to virtual addresses).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct DecodedInstruction
{
    public VmOp Op;
    public byte Dst;
    public byte Src;
    public byte Reserved;
    public int Offset;
    public long Imm;
}
