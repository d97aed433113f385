using System.Text;
using Appliance.Bpf.Isa;

namespace Appliance.Bpf.Assembly;

/// <summary>Turns raw instruction slots back into the assembler's text syntax (jump targets as relative
/// <c>+n</c>/<c>-n</c>), one line per instruction; the output assembles to the same slots. Invalid encodings
/// come out as <c>.invalid 0x…</c> so that error messages can always show something.</summary>
public static class BpfDisassembler
{
    /// <summary>The instruction at <paramref name="index"/> (using the next slot for lddw).</summary>
    public static string Disassemble(ReadOnlySpan<ulong> slots, int index)
    {
        var ins = BpfInstruction.Decode(slots[index]);
        ulong next = ins.IsWide && index + 1 < slots.Length ? slots[index + 1] : 0;
        return Disassemble(ins, (int)(uint)(next >> 32));
    }

    /// <summary>All instructions, one per line; the second slot of an lddw produces no line.</summary>
    public static string DisassembleAll(ReadOnlySpan<ulong> slots)
    {
        var text = new StringBuilder();
        for (int i = 0; i < slots.Length; i++)
        {
            text.Append(Disassemble(slots, i)).Append('\n');
            if (BpfInstruction.Decode(slots[i]).IsWide) i++;
        }
        return text.ToString();
    }

    public static string Disassemble(BpfInstruction ins, int nextImm)
    {
        string? text = TryFormat(ins, nextImm);
        return text ?? $".invalid 0x{ins.Encode():x16}";
    }

    private static string R(int r) => $"%r{r}";
    private static string Rel(int v) => v >= 0 ? $"+{v}" : v.ToString(System.Globalization.CultureInfo.InvariantCulture);
    private static string Mem(int reg, short off) => off >= 0 ? $"[%r{reg}+{off}]" : $"[%r{reg}{off}]";

    private static string? TryFormat(BpfInstruction ins, int nextImm)
    {
        byte op = ins.Opcode;
        if (OpcodeClassifier.Classify(ins, out _) == VmOp.Invalid) return null;
        switch (BpfOpcodes.Class(op))
        {
            case BpfOpcodes.ClassLd when (op & 0xe0) == BpfOpcodes.ModeAbs:
                return $"ldabs{BpfMnemonics.SizeSuffix(op)} {ins.Imm}";
            case BpfOpcodes.ClassLd when (op & 0xe0) == BpfOpcodes.ModeInd:
                return $"ldind{BpfMnemonics.SizeSuffix(op)} {R(ins.Src)}, {ins.Imm}";
            case BpfOpcodes.ClassLd:
                {
                    ulong value = (uint)ins.Imm | ((ulong)(uint)nextImm << 32);
                    return ins.Src switch
                    {
                        BpfOpcodes.PseudoMapFd => $"lddw {R(ins.Dst)}, map[{(uint)ins.Imm}]",
                        BpfOpcodes.PseudoMapValue => $"lddw {R(ins.Dst)}, map_value[{(uint)ins.Imm}]{Rel(nextImm)}",
                        BpfOpcodes.PseudoFunc => $"lddw {R(ins.Dst)}, func {Rel(ins.Imm)}",
                        _ => $"lddw {R(ins.Dst)}, 0x{value:x}",
                    };
                }
            case BpfOpcodes.ClassLdx:
                {
                    string kind = (op & 0xe0) == BpfOpcodes.ModeMemSx ? "ldxs" : "ldx";
                    return $"{kind}{BpfMnemonics.SizeSuffix(op)} {R(ins.Dst)}, {Mem(ins.Src, ins.Offset)}";
                }
            case BpfOpcodes.ClassSt:
                return $"st{BpfMnemonics.SizeSuffix(op)} {Mem(ins.Dst, ins.Offset)}, {ins.Imm}";
            case BpfOpcodes.ClassStx:
                if ((op & 0xe0) == BpfOpcodes.ModeMem)
                    return $"stx{BpfMnemonics.SizeSuffix(op)} {Mem(ins.Dst, ins.Offset)}, {R(ins.Src)}";
                {
                    string w = (op & 0x18) == BpfOpcodes.SizeW ? "32" : "";
                    string name = ins.Imm switch
                    {
                        BpfOpcodes.AtomicXchg => "xchg",
                        BpfOpcodes.AtomicCmpXchg => "cmpxchg",
                        _ => ((ins.Imm & BpfOpcodes.AtomicFetch) != 0 ? "fetch " : "")
                             + BpfMnemonics.Atomic.First(a => a.Imm == (ins.Imm & ~BpfOpcodes.AtomicFetch)).Name,
                    };
                    return $"lock {name}{w} {Mem(ins.Dst, ins.Offset)}, {R(ins.Src)}";
                }
            case BpfOpcodes.ClassAlu:
            case BpfOpcodes.ClassAlu64:
                return FormatAlu(ins);
            default:
                return FormatJump(ins);
        }
    }

    private static string FormatAlu(BpfInstruction ins)
    {
        byte op = ins.Opcode;
        bool is64 = BpfOpcodes.Class(op) == BpfOpcodes.ClassAlu64;
        bool reg = (op & BpfOpcodes.SourceReg) != 0;
        int code = op & 0xf0;
        string w = is64 ? "" : "32";
        if (code == BpfOpcodes.AluEnd)
        {
            string kind = is64 ? "bswap" : reg ? "be" : "le";
            return $"{kind}{ins.Imm} {R(ins.Dst)}";
        }
        if (code == BpfOpcodes.AluNeg) return $"neg{w} {R(ins.Dst)}";
        if (code == BpfOpcodes.AluMov && ins.Offset != 0) return $"movsx{ins.Offset}{(is64 ? "64" : "32")} {R(ins.Dst)}, {R(ins.Src)}";
        string name = BpfMnemonics.Alu.First(a => a.Code == code).Name;
        if (ins.Offset == 1) name = "s" + name;
        string operand = reg ? R(ins.Src) : ins.Imm.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return $"{name}{w} {R(ins.Dst)}, {operand}";
    }

    private static string FormatJump(BpfInstruction ins)
    {
        byte op = ins.Opcode;
        bool is64 = BpfOpcodes.Class(op) == BpfOpcodes.ClassJmp;
        int code = op & 0xf0;
        switch (code)
        {
            case BpfOpcodes.JmpJa: return is64 ? $"ja {Rel(ins.Offset)}" : $"ja32 {Rel(ins.Imm)}";
            case BpfOpcodes.JmpExit: return "exit";
            case BpfOpcodes.JmpCall:
                if ((op & BpfOpcodes.SourceReg) != 0) return $"call {R(ins.Dst)}";
                return ins.Src == BpfOpcodes.CallLocal ? $"call local {Rel(ins.Imm)}" : $"call {ins.Imm}";
        }
        bool reg = (op & BpfOpcodes.SourceReg) != 0;
        string name = BpfMnemonics.Jump.First(j => j.Code == code).Name + (is64 ? "" : "32");
        string operand = reg ? R(ins.Src) : ins.Imm.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return $"{name} {R(ins.Dst)}, {operand}, {Rel(ins.Offset)}";
    }
}
