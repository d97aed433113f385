namespace Appliance.Bpf.Isa;

/// <summary>Maps a raw instruction to its <see cref="VmOp"/>, or explains why the encoding is not a valid
/// instruction of the supported ISA (RFC 9669 + v4, with the legacy ABS/IND packet loads of tc programs; kfunc calls,
/// may_goto, load-acquire/store-release and arena casts are rejected).</summary>
public static class OpcodeClassifier
{
    /// <summary>Returns <see cref="VmOp.Invalid"/> and a reason when the instruction is not valid.</summary>
    public static VmOp Classify(BpfInstruction ins, out string? reason)
    {
        reason = null;
        byte op = ins.Opcode;
        switch (BpfOpcodes.Class(op))
        {
            case BpfOpcodes.ClassAlu64: return ClassifyAlu(ins, is64: true, out reason);
            case BpfOpcodes.ClassAlu: return ClassifyAlu(ins, is64: false, out reason);
            case BpfOpcodes.ClassJmp: return ClassifyJump(ins, is64: true, out reason);
            case BpfOpcodes.ClassJmp32: return ClassifyJump(ins, is64: false, out reason);
            case BpfOpcodes.ClassLd:
                if (op == BpfOpcodes.Lddw)
                {
                    if (ins.Offset != 0) { reason = "lddw must have offset 0"; return VmOp.Invalid; }
                    if (ins.Src is not (0 or BpfOpcodes.PseudoMapFd or BpfOpcodes.PseudoMapValue or BpfOpcodes.PseudoFunc))
                    {
                        reason = $"lddw source {ins.Src} is not supported (only 0 = imm64, 1 = map, 2 = map value, 4 = function)";
                        return VmOp.Invalid;
                    }
                    return VmOp.LoadImm64;
                }
                if ((op & 0xe0) is BpfOpcodes.ModeAbs or BpfOpcodes.ModeInd)
                    return ClassifyLegacyPacketLoad(ins, out reason);
                reason = "unknown load opcode";
                return VmOp.Invalid;
            case BpfOpcodes.ClassLdx:
                {
                    if (ins.Imm != 0) { reason = "ldx must have imm 0"; return VmOp.Invalid; }
                    int mode = op & 0xe0, size = op & 0x18;
                    if (mode == BpfOpcodes.ModeMem)
                        return size switch { BpfOpcodes.SizeB => VmOp.Ldx8, BpfOpcodes.SizeH => VmOp.Ldx16, BpfOpcodes.SizeW => VmOp.Ldx32, _ => VmOp.Ldx64 };
                    if (mode == BpfOpcodes.ModeMemSx && size != BpfOpcodes.SizeDw)
                        return size switch { BpfOpcodes.SizeB => VmOp.Ldxs8, BpfOpcodes.SizeH => VmOp.Ldxs16, _ => VmOp.Ldxs32 };
                    reason = "unknown ldx mode/size";
                    return VmOp.Invalid;
                }
            case BpfOpcodes.ClassSt:
                {
                    if ((op & 0xe0) != BpfOpcodes.ModeMem || ins.Src != 0) { reason = "unknown st mode"; return VmOp.Invalid; }
                    return (op & 0x18) switch { BpfOpcodes.SizeB => VmOp.St8, BpfOpcodes.SizeH => VmOp.St16, BpfOpcodes.SizeW => VmOp.St32, _ => VmOp.St64 };
                }
            default: // STX
                {
                    int mode = op & 0xe0, size = op & 0x18;
                    if (mode == BpfOpcodes.ModeMem)
                    {
                        if (ins.Imm != 0) { reason = "stx must have imm 0"; return VmOp.Invalid; }
                        return size switch { BpfOpcodes.SizeB => VmOp.Stx8, BpfOpcodes.SizeH => VmOp.Stx16, BpfOpcodes.SizeW => VmOp.Stx32, _ => VmOp.Stx64 };
                    }
                    if (mode == BpfOpcodes.ModeAtomic && size is BpfOpcodes.SizeW or BpfOpcodes.SizeDw)
                    {
                        bool w = size == BpfOpcodes.SizeW;
                        VmOp atomic = ins.Imm switch
                        {
                            BpfOpcodes.AtomicAdd => w ? VmOp.AtomicAdd32 : VmOp.AtomicAdd64,
                            BpfOpcodes.AtomicOr => w ? VmOp.AtomicOr32 : VmOp.AtomicOr64,
                            BpfOpcodes.AtomicAnd => w ? VmOp.AtomicAnd32 : VmOp.AtomicAnd64,
                            BpfOpcodes.AtomicXor => w ? VmOp.AtomicXor32 : VmOp.AtomicXor64,
                            BpfOpcodes.AtomicAdd | BpfOpcodes.AtomicFetch => w ? VmOp.AtomicFetchAdd32 : VmOp.AtomicFetchAdd64,
                            BpfOpcodes.AtomicOr | BpfOpcodes.AtomicFetch => w ? VmOp.AtomicFetchOr32 : VmOp.AtomicFetchOr64,
                            BpfOpcodes.AtomicAnd | BpfOpcodes.AtomicFetch => w ? VmOp.AtomicFetchAnd32 : VmOp.AtomicFetchAnd64,
                            BpfOpcodes.AtomicXor | BpfOpcodes.AtomicFetch => w ? VmOp.AtomicFetchXor32 : VmOp.AtomicFetchXor64,
                            BpfOpcodes.AtomicXchg => w ? VmOp.AtomicXchg32 : VmOp.AtomicXchg64,
                            BpfOpcodes.AtomicCmpXchg => w ? VmOp.AtomicCmpXchg32 : VmOp.AtomicCmpXchg64,
                            _ => VmOp.Invalid,
                        };
                        if (atomic == VmOp.Invalid) reason = $"unsupported atomic operation 0x{ins.Imm:x}";
                        return atomic;
                    }
                    reason = "unknown stx mode/size";
                    return VmOp.Invalid;
                }
        }
    }

    private static VmOp ClassifyAlu(BpfInstruction ins, bool is64, out string? reason)
    {
        reason = null;
        int code = ins.Opcode & 0xf0;
        bool reg = (ins.Opcode & BpfOpcodes.SourceReg) != 0;
        if (!reg && ins.Src != 0 && code != BpfOpcodes.AluEnd) { reason = "ALU with immediate must have src 0"; return VmOp.Invalid; }
        if (reg && ins.Imm != 0 && code != BpfOpcodes.AluEnd) { reason = "ALU with register must have imm 0"; return VmOp.Invalid; }
        short off = ins.Offset;
        switch (code)
        {
            case BpfOpcodes.AluNeg:
                if (reg || ins.Imm != 0 || off != 0) { reason = "neg takes no operand"; return VmOp.Invalid; }
                return is64 ? VmOp.Neg64 : VmOp.Neg32;
            case BpfOpcodes.AluEnd:
                {
                    if (off != 0 || ins.Src != 0) { reason = "byte swap must have offset 0 and src 0"; return VmOp.Invalid; }
                    if (ins.Imm is not (16 or 32 or 64)) { reason = $"byte swap width {ins.Imm} is not 16, 32 or 64"; return VmOp.Invalid; }
                    if (is64)
                    {
                        if (reg) { reason = "bswap must use source 0"; return VmOp.Invalid; }
                        return ins.Imm switch { 16 => VmOp.Bswap16, 32 => VmOp.Bswap32, _ => VmOp.Bswap64 };
                    }
                    return (reg, ins.Imm) switch
                    {
                        (false, 16) => VmOp.Le16, (false, 32) => VmOp.Le32, (false, _) => VmOp.Le64,
                        (true, 16) => VmOp.Be16, (true, 32) => VmOp.Be32, _ => VmOp.Be64,
                    };
                }
            case BpfOpcodes.AluDiv:
            case BpfOpcodes.AluMod:
                if (off is not (0 or 1)) { reason = $"div/mod offset must be 0 or 1, not {off}"; return VmOp.Invalid; }
                break;
            case BpfOpcodes.AluMov:
                if (off != 0)
                {
                    bool ok = reg && (is64 ? off is 8 or 16 or 32 : off is 8 or 16);
                    if (!ok) { reason = $"movsx offset {off} is invalid for this form"; return VmOp.Invalid; }
                    return (is64, off) switch
                    {
                        (true, 8) => VmOp.MovSx8To64, (true, 16) => VmOp.MovSx16To64, (true, _) => VmOp.MovSx32To64,
                        (false, 8) => VmOp.MovSx8To32, _ => VmOp.MovSx16To32,
                    };
                }
                break;
            default:
                if (off != 0) { reason = "ALU offset must be 0"; return VmOp.Invalid; }
                break;
        }

        bool signed = off == 1;
        VmOp baseOp = code switch
        {
            BpfOpcodes.AluAdd => VmOp.Add64Imm,
            BpfOpcodes.AluSub => VmOp.Sub64Imm,
            BpfOpcodes.AluMul => VmOp.Mul64Imm,
            BpfOpcodes.AluDiv => signed ? VmOp.SDiv64Imm : VmOp.Div64Imm,
            BpfOpcodes.AluOr => VmOp.Or64Imm,
            BpfOpcodes.AluAnd => VmOp.And64Imm,
            BpfOpcodes.AluLsh => VmOp.Lsh64Imm,
            BpfOpcodes.AluRsh => VmOp.Rsh64Imm,
            BpfOpcodes.AluMod => signed ? VmOp.SMod64Imm : VmOp.Mod64Imm,
            BpfOpcodes.AluXor => VmOp.Xor64Imm,
            BpfOpcodes.AluMov => VmOp.Mov64Imm,
            BpfOpcodes.AluArsh => VmOp.Arsh64Imm,
            _ => VmOp.Invalid,
        };
        if (baseOp == VmOp.Invalid) { reason = "unknown ALU operation"; return VmOp.Invalid; }
        if (baseOp == VmOp.Arsh64Imm) // after the movsx forms, which differ in number between ALU and ALU64
            return is64 ? (reg ? VmOp.Arsh64Reg : VmOp.Arsh64Imm) : (reg ? VmOp.Arsh32Reg : VmOp.Arsh32Imm);
        int value = (int)baseOp + (reg ? 1 : 0);
        if (!is64) value += VmOp.Add32Imm - VmOp.Add64Imm;
        return (VmOp)value;
    }

    private static VmOp ClassifyJump(BpfInstruction ins, bool is64, out string? reason)
    {
        reason = null;
        int code = ins.Opcode & 0xf0;
        bool reg = (ins.Opcode & BpfOpcodes.SourceReg) != 0;
        switch (code)
        {
            case BpfOpcodes.JmpJa:
                if (reg || ins.Src != 0 || ins.Dst != 0) { reason = "ja takes no registers"; return VmOp.Invalid; }
                if (is64 && ins.Imm != 0) { reason = "ja must have imm 0 (use gotol/ja32 for a 32-bit target)"; return VmOp.Invalid; }
                if (!is64 && ins.Offset != 0) { reason = "ja32 must have offset 0"; return VmOp.Invalid; }
                return VmOp.Ja;
            case BpfOpcodes.JmpCall:
                if (!is64) { reason = "call is a JMP class instruction"; return VmOp.Invalid; }
                if (reg)
                {
                    if (ins.Src != 0 || ins.Offset != 0 || ins.Imm != 0) { reason = "callx takes only a register (dst)"; return VmOp.Invalid; }
                    return VmOp.CallReg;
                }
                if (ins.Dst != 0 || ins.Offset != 0) { reason = "call must have dst 0 and offset 0"; return VmOp.Invalid; }
                if (ins.Src == BpfOpcodes.CallHelper) return VmOp.CallHelper;
                if (ins.Src == BpfOpcodes.CallLocal) return VmOp.CallLocal;
                reason = ins.Src == BpfOpcodes.CallKfunc ? "kfunc calls (call src 2) are not supported" : $"call source {ins.Src} is invalid";
                return VmOp.Invalid;
            case BpfOpcodes.JmpExit:
                if (!is64 || reg || ins.Src != 0 || ins.Dst != 0 || ins.Offset != 0 || ins.Imm != 0) { reason = "exit takes no operands"; return VmOp.Invalid; }
                return VmOp.Exit;
        }

        if (!reg && ins.Src != 0) { reason = "conditional jump with immediate must have src 0"; return VmOp.Invalid; }
        if (reg && ins.Imm != 0) { reason = "conditional jump with register must have imm 0"; return VmOp.Invalid; }
        VmOp baseOp = code switch
        {
            BpfOpcodes.JmpJeq => VmOp.Jeq64Imm,
            BpfOpcodes.JmpJgt => VmOp.Jgt64Imm,
            BpfOpcodes.JmpJge => VmOp.Jge64Imm,
            BpfOpcodes.JmpJset => VmOp.Jset64Imm,
            BpfOpcodes.JmpJne => VmOp.Jne64Imm,
            BpfOpcodes.JmpJsgt => VmOp.Jsgt64Imm,
            BpfOpcodes.JmpJsge => VmOp.Jsge64Imm,
            BpfOpcodes.JmpJlt => VmOp.Jlt64Imm,
            BpfOpcodes.JmpJle => VmOp.Jle64Imm,
            BpfOpcodes.JmpJslt => VmOp.Jslt64Imm,
            BpfOpcodes.JmpJsle => VmOp.Jsle64Imm,
            _ => VmOp.Invalid,
        };
        if (baseOp == VmOp.Invalid)
        {
            reason = code == 0xe0 ? "may_goto (BPF_JCOND) is not supported" : "unknown jump operation";
            return VmOp.Invalid;
        }
        int value = (int)baseOp + (reg ? 1 : 0);
        if (!is64) value += VmOp.Jeq32Imm - VmOp.Jeq64Imm;
        return (VmOp)value;
    }
    /// <summary>BPF_LD | BPF_ABS / BPF_IND (legacy packet loads, cBPF's): 1, 2 or 4 bytes, with the kernel's rules
    /// for the fields it reserves (dst 0, offset 0, src 0 for ABS).</summary>
    private static VmOp ClassifyLegacyPacketLoad(BpfInstruction ins, out string? reason)
    {
        reason = null;
        bool indirect = (ins.Opcode & 0xe0) == BpfOpcodes.ModeInd;
        if ((ins.Opcode & 0x18) == BpfOpcodes.SizeDw || ins.Dst != 0 || ins.Offset != 0 || !indirect && ins.Src != 0)
        {
            reason = "legacy packet load (LD_ABS/LD_IND) uses reserved fields (8-byte size, dst, offset, or src for ABS), as the kernel refuses";
            return VmOp.Invalid;
        }
        return (BpfOpcodes.SizeBytes(ins.Opcode), indirect) switch
        {
            (1, false) => VmOp.LdAbs8, (2, false) => VmOp.LdAbs16, (4, false) => VmOp.LdAbs32,
            (1, true) => VmOp.LdInd8, (2, true) => VmOp.LdInd16, _ => VmOp.LdInd32,
        };
    }
}
