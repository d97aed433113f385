using System.Globalization;
using System.Text.RegularExpressions;
using Appliance.Bpf.Isa;

namespace Appliance.Bpf.Assembly;

/// <summary>Assembles the text syntax of the bpf_conformance vectors into raw instruction slots
/// (little-endian <c>ulong</c>s, lddw takes two). Syntax: <c>mnemonic operand, operand</c>; registers
/// <c>%r0</c>–<c>%r10</c>; memory <c>[%rN+off]</c>; jump targets <c>+n</c>, <c>-n</c> or a label
/// (<c>name:</c> on its own line; the label <c>exit</c> means the first <c>exit</c>); <c>#</c> comments.
/// Extensions for tests: <c>lddw %rD, map[i]</c> and <c>lddw %rD, map_value[i]+off</c> emit the kernel-style
/// pseudo map references (src 1 / src 2).</summary>
public static partial class BpfAssembler
{
    public static ulong[] Assemble(string text)
    {
        var slots = new List<ulong>();
        var labels = new Dictionary<string, int>(StringComparer.Ordinal);
        var fixups = new List<(int Slot, string Label, int Line, bool InImm)>();
        string[] lines = text.Split('\n');
        for (int lineNo = 1; lineNo <= lines.Length; lineNo++)
        {
            string line = lines[lineNo - 1];
            int hash = line.IndexOf('#');
            if (hash >= 0) line = line[..hash];
            line = BracketSpaces().Replace(line, m => m.Value.Replace(" ", "", StringComparison.Ordinal));
            var tokens = line.Split([' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries)
                .Select(t => t.TrimEnd(',')).Where(t => t.Length > 0).ToList();
            if (tokens.Count == 0) continue;
            if (tokens[0].EndsWith(':'))
            {
                string label = tokens[0][..^1];
                if (!labels.TryAdd(label, slots.Count)) throw Error(lineNo, $"duplicate label '{label}'");
                tokens.RemoveAt(0);
                if (tokens.Count == 0) continue;
            }
            try
            {
                if (tokens[0] == "exit") labels.TryAdd("exit", slots.Count);
                Encode(tokens, slots, (label, inImm) => fixups.Add((slots.Count, label, lineNo, inImm)));
            }
            catch (Exception e) when (e is FormatException or OverflowException or ArgumentException or KeyNotFoundException)
            {
                throw Error(lineNo, $"{e.Message} in '{string.Join(' ', tokens)}'");
            }
        }

        foreach (var (slot, label, line, inImm) in fixups)
        {
            if (!labels.TryGetValue(label, out int target)) throw Error(line, $"unknown label '{label}'");
            var ins = BpfInstruction.Decode(slots[slot]);
            int rel = target - slot - 1;
            slots[slot] = (inImm ? ins with { Imm = rel } : ins with { Offset = checked((short)rel) }).Encode();
        }
        return [.. slots];
    }

    private static BpfAssemblyException Error(int line, string what) => new($"line {line}: {what}");

    private static void Encode(List<string> t, List<ulong> slots, Action<string, bool> labelFixup)
    {
        string m = t[0];
        void Emit(byte opcode, int dst = 0, int src = 0, short off = 0, int imm = 0) =>
            slots.Add(new BpfInstruction(opcode, (byte)dst, (byte)src, off, imm).Encode());
        void Expect(int operands)
        {
            if (t.Count - 1 != operands) throw new ArgumentException($"'{m}' takes {operands} operand(s), got {t.Count - 1}");
        }

        if (m == "exit") { Expect(0); Emit(BpfOpcodes.Exit); return; }
        if (m == "lddw" && t.Count == 4 && t[2] == "func")
        {
            // lddw %rD, func LABEL|±N: a callback's address (src 4, imm relative as a call's)
            int rel = 0;
            if (IsRelative(t[3])) rel = (int)ParseSigned(t[3]);
            else labelFixup(t[3], true);
            slots.Add(new BpfInstruction(BpfOpcodes.Lddw, (byte)Reg(t[1]), BpfOpcodes.PseudoFunc, 0, rel).Encode());
            slots.Add(new BpfInstruction(0, 0, 0, 0, 0).Encode());
            return;
        }
        if (m == "lddw") { Expect(2); EncodeLddw(Reg(t[1]), t[2], slots); return; }
        if (m == "call") { EncodeCall(t, slots, labelFixup); return; }
        if (m == "lock") { EncodeAtomic(t, slots); return; }
        if (m is "ja" or "ja32")
        {
            Expect(1);
            bool wide = m == "ja32";
            if (IsRelative(t[1]))
            {
                int rel = (int)ParseSigned(t[1]);
                Emit(wide ? BpfOpcodes.Ja32 : BpfOpcodes.Ja, off: wide ? (short)0 : checked((short)rel), imm: wide ? rel : 0);
            }
            else
            {
                labelFixup(t[1], wide);
                Emit(wide ? BpfOpcodes.Ja32 : BpfOpcodes.Ja);
            }
            return;
        }

        var mem = MemoryMnemonic().Match(m);
        if (mem.Success)
        {
            string kind = mem.Groups[1].Value;
            byte size = BpfMnemonics.SizeFromSuffix(mem.Groups[2].Value);
            Expect(2);
            switch (kind)
            {
                case "ldx":
                case "ldxs":
                    {
                        var (src, off) = MemoryOperand(t[2]);
                        byte mode = kind == "ldx" ? BpfOpcodes.ModeMem : BpfOpcodes.ModeMemSx;
                        Emit((byte)(BpfOpcodes.ClassLdx | mode | size), Reg(t[1]), src, off);
                        return;
                    }
                case "st":
                    {
                        var (dst, off) = MemoryOperand(t[1]);
                        Emit((byte)(BpfOpcodes.ClassSt | BpfOpcodes.ModeMem | size), dst, 0, off, Imm32(t[2]));
                        return;
                    }
                default:
                    {
                        var (dst, off) = MemoryOperand(t[1]);
                        Emit((byte)(BpfOpcodes.ClassStx | BpfOpcodes.ModeMem | size), dst, Reg(t[2]), off);
                        return;
                    }
            }
        }

        var legacy = LegacyLoadMnemonic().Match(m);
        if (legacy.Success)
        {
            // ldabsb IMM / ldindb %rS, IMM: legacy packet loads (r0 = packet bytes; r6 the context)
            byte size = BpfMnemonics.SizeFromSuffix(legacy.Groups[2].Value);
            if (legacy.Groups[1].Value == "ldabs")
            {
                Expect(1);
                Emit((byte)(BpfOpcodes.ClassLd | BpfOpcodes.ModeAbs | size), 0, 0, 0, Imm32(t[1]));
            }
            else
            {
                Expect(2);
                Emit((byte)(BpfOpcodes.ClassLd | BpfOpcodes.ModeInd | size), 0, Reg(t[1]), 0, Imm32(t[2]));
            }
            return;
        }

        var swap = SwapMnemonic().Match(m);
        if (swap.Success)
        {
            Expect(1);
            int width = int.Parse(swap.Groups[2].Value, CultureInfo.InvariantCulture);
            byte opcode = swap.Groups[1].Value switch
            {
                "le" => BpfOpcodes.ClassAlu | BpfOpcodes.AluEnd,
                "be" => BpfOpcodes.ClassAlu | BpfOpcodes.AluEnd | BpfOpcodes.SourceReg,
                _ => BpfOpcodes.ClassAlu64 | BpfOpcodes.AluEnd,
            };
            Emit(opcode, Reg(t[1]), imm: width);
            return;
        }

        var movsx = MovsxMnemonic().Match(m);
        if (movsx.Success)
        {
            Expect(2);
            int from = int.Parse(movsx.Groups[1].Value, CultureInfo.InvariantCulture);
            byte cls = movsx.Groups[2].Value == "64" ? BpfOpcodes.ClassAlu64 : BpfOpcodes.ClassAlu;
            Emit((byte)(cls | BpfOpcodes.AluMov | BpfOpcodes.SourceReg), Reg(t[1]), Reg(t[2]), (short)from);
            return;
        }

        bool is32 = m.EndsWith("32", StringComparison.Ordinal);
        string stem = is32 ? m[..^2] : m;

        foreach (var (name, code) in BpfMnemonics.Jump)
        {
            if (name != stem) continue;
            Expect(3);
            byte cls = is32 ? BpfOpcodes.ClassJmp32 : BpfOpcodes.ClassJmp;
            bool reg = t[2].StartsWith('%');
            byte opcode = (byte)(cls | code | (reg ? BpfOpcodes.SourceReg : 0));
            short off = 0;
            if (IsRelative(t[3])) off = checked((short)ParseSigned(t[3]));
            else labelFixup(t[3], false);
            Emit(opcode, Reg(t[1]), reg ? Reg(t[2]) : 0, off, reg ? 0 : Imm32(t[2]));
            return;
        }

        bool signed = stem is "sdiv" or "smod";
        string aluStem = signed ? stem[1..] : stem;
        foreach (var (name, code) in BpfMnemonics.Alu)
        {
            if (name != aluStem) continue;
            byte cls = is32 ? BpfOpcodes.ClassAlu : BpfOpcodes.ClassAlu64;
            if (code == BpfOpcodes.AluNeg) { Expect(1); Emit((byte)(cls | code), Reg(t[1])); return; }
            Expect(2);
            bool reg = t[2].StartsWith('%');
            Emit((byte)(cls | code | (reg ? BpfOpcodes.SourceReg : 0)), Reg(t[1]), reg ? Reg(t[2]) : 0, (short)(signed ? 1 : 0), reg ? 0 : Imm32(t[2]));
            return;
        }

        throw new ArgumentException($"unknown mnemonic '{m}'");
    }

    private static void EncodeLddw(int dst, string operand, List<ulong> slots)
    {
        byte src = 0;
        ulong value;
        var map = MapOperand().Match(operand);
        if (map.Success)
        {
            src = map.Groups[1].Value == "map" ? BpfOpcodes.PseudoMapFd : BpfOpcodes.PseudoMapValue;
            uint index = uint.Parse(map.Groups[2].Value, CultureInfo.InvariantCulture);
            uint offset = map.Groups[3].Success ? (uint)ParseSigned(map.Groups[3].Value) : 0;
            if (src == BpfOpcodes.PseudoMapFd && offset != 0) throw new ArgumentException("map[i] takes no offset (use map_value[i]+off)");
            value = index | ((ulong)offset << 32);
        }
        else
        {
            value = Imm64(operand);
        }
        slots.Add(new BpfInstruction(BpfOpcodes.Lddw, (byte)dst, src, 0, (int)(uint)value).Encode());
        slots.Add(new BpfInstruction(0, 0, 0, 0, (int)(uint)(value >> 32)).Encode());
    }

    private static void EncodeCall(List<string> t, List<ulong> slots, Action<string, bool> labelFixup)
    {
        if (t.Count == 2 && t[1].StartsWith('%'))
        {
            slots.Add(new BpfInstruction(BpfOpcodes.CallX, (byte)Reg(t[1]), 0, 0, 0).Encode());
            return;
        }
        string mode = t.Count == 3 ? t[1] : "helper";
        if (t.Count is not (2 or 3)) throw new ArgumentException("call takes [helper|local|runtime] target");
        string target = t[^1];
        switch (mode)
        {
            case "helper":
                slots.Add(new BpfInstruction(BpfOpcodes.Call, 0, BpfOpcodes.CallHelper, 0, Imm32(target)).Encode());
                return;
            case "runtime":
                slots.Add(new BpfInstruction(BpfOpcodes.Call, 0, BpfOpcodes.CallKfunc, 0, Imm32(target)).Encode());
                return;
            case "local":
                int rel = 0;
                if (IsRelative(target)) rel = (int)ParseSigned(target);
                else labelFixup(target, true);
                slots.Add(new BpfInstruction(BpfOpcodes.Call, 0, BpfOpcodes.CallLocal, 0, rel).Encode());
                return;
            default:
                throw new ArgumentException($"unknown call mode '{mode}'");
        }
    }

    private static void EncodeAtomic(List<string> t, List<ulong> slots)
    {
        // lock [fetch] op[32] [%rD+off], %rS
        int i = 1;
        bool fetch = false;
        if (i < t.Count && t[i] == "fetch") { fetch = true; i++; }
        if (t.Count - i != 3) throw new ArgumentException("lock takes [fetch] op [%rD+off], %rS");
        string op = t[i];
        bool is32 = op.EndsWith("32", StringComparison.Ordinal);
        string stem = is32 ? op[..^2] : op;
        int imm = stem switch
        {
            "xchg" => BpfOpcodes.AtomicXchg,
            "cmpxchg" => BpfOpcodes.AtomicCmpXchg,
            _ => BpfMnemonics.Atomic.First(a => a.Name == stem).Imm | (fetch ? BpfOpcodes.AtomicFetch : 0),
        };
        var (dst, off) = MemoryOperand(t[i + 1]);
        byte opcode = (byte)(BpfOpcodes.ClassStx | BpfOpcodes.ModeAtomic | (is32 ? BpfOpcodes.SizeW : BpfOpcodes.SizeDw));
        slots.Add(new BpfInstruction(opcode, (byte)dst, (byte)Reg(t[i + 2]), off, imm).Encode());
    }

    private static int Reg(string s)
    {
        if (s.Length < 3 || !s.StartsWith("%r", StringComparison.Ordinal) || !int.TryParse(s.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out int r) || r > 10)
            throw new ArgumentException($"invalid register '{s}'");
        return r;
    }

    private static (int Reg, short Offset) MemoryOperand(string s)
    {
        var match = MemoryOperandPattern().Match(s);
        if (!match.Success) throw new ArgumentException($"invalid memory operand '{s}' (expected [%rN+off])");
        short off = match.Groups[2].Success ? checked((short)ParseSigned(match.Groups[2].Value)) : (short)0;
        return (Reg(match.Groups[1].Value), off);
    }

    private static bool IsRelative(string s) => s.Length > 1 && (s[0] == '+' || s[0] == '-') && char.IsAsciiDigit(s[1]);

    /// <summary>Decimal or 0x-hex with an optional sign.</summary>
    private static long ParseSigned(string s)
    {
        bool neg = s.StartsWith('-');
        string body = s.TrimStart('+', '-');
        ulong magnitude = body.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.Parse(body.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)
            : ulong.Parse(body, NumberStyles.None, CultureInfo.InvariantCulture);
        return neg ? -(long)magnitude : (long)magnitude;
    }

    /// <summary>imm32: hex is raw 32 bits (≤ 0xFFFFFFFF), decimal must fit int32 (or uint32).</summary>
    private static int Imm32(string s)
    {
        long v = ParseSigned(s);
        if (v < int.MinValue || v > uint.MaxValue) throw new OverflowException($"immediate '{s}' does not fit 32 bits");
        return (int)(uint)(ulong)v;
    }

    /// <summary>imm64: hex is unsigned 64-bit, decimal may be negative.</summary>
    private static ulong Imm64(string s)
    {
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            return ulong.Parse(s.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        if (s.StartsWith('-')) return (ulong)long.Parse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        return ulong.Parse(s.TrimStart('+'), NumberStyles.None, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"\[[^\]]*\]")] private static partial Regex BracketSpaces();
    [GeneratedRegex(@"^(ldxs|ldx|stx|st)(b|h|w|dw)$")] private static partial Regex MemoryMnemonic();
    [GeneratedRegex(@"^(ldabs|ldind)(b|h|w)$")] private static partial Regex LegacyLoadMnemonic();
    [GeneratedRegex(@"^(le|be|bswap|swap)(16|32|64)$")] private static partial Regex SwapMnemonic();
    [GeneratedRegex(@"^movsx(8|16|32)(32|64)$")] private static partial Regex MovsxMnemonic();
    [GeneratedRegex(@"^\[(%r\d+)([+-](?:0x[0-9a-fA-F]+|\d+))?\]$")] private static partial Regex MemoryOperandPattern();
    [GeneratedRegex(@"^(map|map_value)\[(\d+)\]([+-](?:0x[0-9a-fA-F]+|\d+))?$")] private static partial Regex MapOperand();
}
