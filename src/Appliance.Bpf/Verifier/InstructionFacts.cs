using Appliance.Bpf.Isa;

namespace Appliance.Bpf.Verifier;

/// <summary>What one instruction reads, writes and where control goes next — the facts the verifier's
/// passes share. Register sets are bit masks (bit n = rN).</summary>
internal readonly record struct InstructionFacts(BpfInstruction Instruction, VmOp Op, bool IsWideTail, int Target)
{
    public const int CallerSaved = 0b11_1110; // r1..r5

    public bool IsConditionalJump => Op is >= VmOp.Jeq64Imm and <= VmOp.Jsle32Reg;
    public bool IsCall => Op is VmOp.CallHelper or VmOp.CallLocal or VmOp.CallReg;

    /// <summary>LD_ABS / LD_IND: reads r6 (the context) and, for IND, src; sets r0 and clobbers r1–r5 (the kernel
    /// makes it a helper call), which <see cref="Writes"/> lists.</summary>
    public bool IsLegacyPacketLoad => Op is >= VmOp.LdAbs8 and <= VmOp.LdInd32;
    public int Width => Op == VmOp.LoadImm64 ? 2 : 1;

    /// <summary>lddw src 4: the address of the function at <see cref="Target"/> (a callback).</summary>
    public bool IsFunctionAddress => Op == VmOp.LoadImm64 && Instruction.Src == BpfOpcodes.PseudoFunc;

    /// <summary>A bpf-to-bpf call or a callback address: <see cref="Target"/> starts a function.</summary>
    public bool EntersFunction => Op == VmOp.CallLocal || IsFunctionAddress;

    public int Reads
    {
        get
        {
            int dst = 1 << Instruction.Dst, src = 1 << Instruction.Src;
            switch (Op)
            {
                case VmOp.Mov64Imm or VmOp.Mov32Imm or VmOp.LoadImm64 or VmOp.Ja or VmOp.CallHelper or VmOp.CallLocal or VmOp.WideTail:
                    return 0;
                case VmOp.Mov64Reg or VmOp.Mov32Reg or VmOp.MovSx8To64 or VmOp.MovSx16To64 or VmOp.MovSx32To64
                    or VmOp.MovSx8To32 or VmOp.MovSx16To32:
                    return src;
                case VmOp.Exit: return 1;
                case VmOp.CallReg: return dst;
                case >= VmOp.LdAbs8 and <= VmOp.LdAbs32: return 1 << 6;
                case >= VmOp.LdInd8 and <= VmOp.LdInd32: return 1 << 6 | src;
                case >= VmOp.Ldx8 and <= VmOp.Ldxs32: return src;
                case >= VmOp.St8 and <= VmOp.St64: return dst;
                case >= VmOp.Stx8 and <= VmOp.Stx64: return dst | src;
                case VmOp.AtomicCmpXchg32 or VmOp.AtomicCmpXchg64: return dst | src | 1;
                case >= VmOp.AtomicAdd32 and <= VmOp.AtomicXchg64: return dst | src;
            }
            if (Op is >= VmOp.Add64Imm and <= VmOp.Be64 || IsConditionalJump)
            {
                bool reg = (Instruction.Opcode & BpfOpcodes.SourceReg) != 0 && (Instruction.Opcode & 0xf0) != BpfOpcodes.AluEnd;
                return reg ? dst | src : dst;
            }
            return 0;
        }
    }

    public int Writes
    {
        get
        {
            switch (Op)
            {
                case >= VmOp.Add64Imm and <= VmOp.Be64: return 1 << Instruction.Dst;
                case VmOp.LoadImm64: return 1 << Instruction.Dst;
                case >= VmOp.Ldx8 and <= VmOp.Ldxs32: return 1 << Instruction.Dst;
                case >= VmOp.AtomicFetchAdd32 and <= VmOp.AtomicXchg32:
                case >= VmOp.AtomicFetchAdd64 and <= VmOp.AtomicXchg64: return 1 << Instruction.Src;
                case VmOp.AtomicCmpXchg32 or VmOp.AtomicCmpXchg64: return 1;
                case VmOp.CallHelper or VmOp.CallLocal or VmOp.CallReg: return 1;
                case >= VmOp.LdAbs8 and <= VmOp.LdInd32: return 1 | CallerSaved;
                default: return 0;
            }
        }
    }

    /// <summary>Successor slots inside the program (a jump target, the fall-through, both, or none).</summary>
    public int SuccessorCount(int index, out int first, out int second)
    {
        first = second = -1;
        if (IsWideTail || Op == VmOp.Exit) return 0;
        if (Op == VmOp.Ja) { first = Target; return 1; }
        first = index + Width;
        if (IsConditionalJump) { second = Target; return 2; }
        return 1;
    }
}
