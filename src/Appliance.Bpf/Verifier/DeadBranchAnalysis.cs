using System.Buffers.Binary;
using Appliance.Bpf.Isa;

namespace Appliance.Bpf.Verifier;

/// <summary>Which instructions no run can reach because a branch before them compares constants: the kernel follows
/// values, so a branch whose outcome is fixed (<c>r1 = 0; if r1 == 0 goto …</c>, what a CO-RE existence check
/// relocated to 0 becomes) never takes its other side, and the code only that side reaches is not checked at all —
/// libbpf's poisoned instructions and helper calls the program type lacks may sit there. A forward must-analysis of
/// constants per register (mov of an immediate or a register, lddw of a number, and ALU operations on constants; any
/// other write, and r0–r5 at a call, forget) that follows only the side a constant compare takes. A load from a
/// frozen read-only map's value at a constant offset (a <c>const volatile</c> global in .rodata: lddw src 2, then ldx)
/// is the constant it holds, as the kernel reads such a map at load (bpf_map_direct_read), so a feature switch the
/// config leaves off drops its code. Sound: an instruction it calls dead is dead on every run. A function (sub-program,
/// callback) is entered only from a live call or function address, with nothing known: one only dead code names is
/// dead, as the kernel never verifies it.</summary>
internal static class DeadBranchAnalysis
{
    /// <summary>Per instruction, whether some path that constant branches allow reaches it (false for the second slot
    /// of an lddw and for code no path reaches at all). Constants are kept per basic block, not per instruction (the
    /// state at a block's first instruction; inside a block it is carried along), so a program of the 1M-instruction
    /// limit costs its blocks' states, not 11 registers for each instruction.</summary>
    /// <param name="maps">Each map's value shape; a <see cref="MapValueShape.Constant"/> one's loads are constants.</param>
    public static bool[] Run(InstructionFacts[] facts, IReadOnlyList<MapValueShape?> maps)
    {
        int n = facts.Length;

        // Block leaders: the entry, function entries, jump targets and the instruction after a conditional jump.
        var blockOf = new int[n];
        Array.Fill(blockOf, -1);
        int blocks = 0;
        void Lead(int index)
        {
            if (index >= 0 && index < n && blockOf[index] < 0) blockOf[index] = blocks++;
        }
        Lead(0);
        for (int i = 0; i < n; i++)
        {
            var f = facts[i];
            if (f.EntersFunction) Lead(f.Target);
            if (f.Op == VmOp.Ja) Lead(f.Target);
            if (f.IsConditionalJump) { Lead(f.Target); Lead(i + f.Width); }
        }

        // Per block and register: known[b, r] and value[b, r], the state its leader is entered with (or, for a register
        // holding an address in a constant map value, map[b, r] = the map's index + 1 and value[b, r] the offset); seen[b]
        // once some path reached it.
        var visited = new bool[n];
        var seen = new bool[blocks];
        var known = new bool[blocks * 11];
        var value = new ulong[blocks * 11];
        var map = new int[blocks * 11];
        var work = new Stack<int>();
        Span<bool> k = stackalloc bool[11];
        Span<ulong> v = stackalloc ulong[11];
        Span<int> m = stackalloc int[11];

        void Seed(int index, ReadOnlySpan<bool> ks, ReadOnlySpan<ulong> vs, ReadOnlySpan<int> ms)
        {
            int b = blockOf[index];
            var atK = known.AsSpan(b * 11, 11);
            var atV = value.AsSpan(b * 11, 11);
            var atM = map.AsSpan(b * 11, 11);
            if (!seen[b])
            {
                seen[b] = true;
                ks.CopyTo(atK);
                vs.CopyTo(atV);
                ms.CopyTo(atM);
                work.Push(index);
                return;
            }
            bool changed = false;
            for (int r = 0; r < 11; r++)
            {
                if (atK[r] && (!ks[r] || vs[r] != atV[r])) { atK[r] = false; changed = true; }
                if (atM[r] != 0 && (ms[r] != atM[r] || vs[r] != atV[r])) { atM[r] = 0; changed = true; }
            }
            if (changed) work.Push(index);
        }

        Span<bool> none = stackalloc bool[11];
        Span<ulong> zeros = stackalloc ulong[11];
        Span<int> noMaps = stackalloc int[11];
        Seed(0, none, zeros, noMaps);

        while (work.Count > 0)
        {
            int i = work.Pop();
            known.AsSpan(blockOf[i] * 11, 11).CopyTo(k);
            value.AsSpan(blockOf[i] * 11, 11).CopyTo(v);
            map.AsSpan(blockOf[i] * 11, 11).CopyTo(m);
            while (true) // along the block: a leader is only entered through Seed
            {
                visited[i] = true;
                var f = facts[i];
                if (f.EntersFunction) Seed(f.Target, none, zeros, noMaps);
                if (f.IsConditionalJump && Outcome(f, k, v) is bool taken)
                {
                    Seed(taken ? f.Target : i + 1, k, v, m);
                    break;
                }
                Transfer(facts, i, k, v, m, maps);
                int count = f.SuccessorCount(i, out int a, out int b);
                if (count == 1 && a < n && blockOf[a] < 0) { i = a; continue; }
                if (count >= 1) Seed(a, k, v, m);
                if (count == 2) Seed(b, k, v, m);
                break;
            }
        }
        return visited;
    }

    /// <summary>Whether the branch is taken when both sides are constants, else null.</summary>
    private static bool? Outcome(InstructionFacts f, ReadOnlySpan<bool> k, ReadOnlySpan<ulong> v)
    {
        var ins = f.Instruction;
        bool is64 = f.Op <= VmOp.Jsle64Reg;
        int index = is64 ? f.Op - VmOp.Jeq64Imm : f.Op - VmOp.Jeq32Imm;
        bool reg = index % 2 == 1;
        if (!k[ins.Dst] || reg && !k[ins.Src]) return null;
        ulong a = v[ins.Dst], b = reg ? v[ins.Src] : (ulong)(long)ins.Imm;
        if (!is64) { a = (uint)a; b = (uint)b; }
        long sa = is64 ? (long)a : (int)a, sb = is64 ? (long)b : (int)b;
        return (index / 2) switch
        {
            0 => a == b,   // eq
            1 => a > b,    // gt
            2 => a >= b,   // ge
            3 => (a & b) != 0, // set
            4 => a != b,   // ne
            5 => sa > sb,  // sgt
            6 => sa >= sb, // sge
            7 => a < b,    // lt
            8 => a <= b,   // le
            9 => sa < sb,  // slt
            _ => sa <= sb, // sle
        };
    }

    private static void Transfer(InstructionFacts[] facts, int i, Span<bool> k, Span<ulong> v, Span<int> m, IReadOnlyList<MapValueShape?> maps)
    {
        var f = facts[i];
        var ins = f.Instruction;
        int dst = ins.Dst;
        bool reg = (ins.Opcode & BpfOpcodes.SourceReg) != 0;
        switch (f.Op)
        {
            case VmOp.Mov64Imm: Set(k, v, m, dst, (ulong)(long)ins.Imm); return;
            case VmOp.Mov32Imm: Set(k, v, m, dst, (uint)ins.Imm); return;
            case VmOp.Mov64Reg: k[dst] = k[ins.Src]; v[dst] = v[ins.Src]; m[dst] = m[ins.Src]; return;
            case VmOp.Mov32Reg: k[dst] = k[ins.Src]; v[dst] = (uint)v[ins.Src]; m[dst] = 0; return;
            case VmOp.LoadImm64 when ins.Src == 0:
                Set(k, v, m, dst, (uint)ins.Imm | (ulong)(uint)facts[i + 1].Instruction.Imm << 32);
                return;
            case VmOp.LoadImm64 when ins.Src == BpfOpcodes.PseudoMapValue && (uint)ins.Imm < (uint)maps.Count && maps[ins.Imm] is { Constant: not null }:
                k[dst] = false;
                v[dst] = (uint)facts[i + 1].Instruction.Imm;
                m[dst] = ins.Imm + 1;
                return;
            case VmOp.Add64Imm or VmOp.Sub64Imm when m[dst] != 0:
                v[dst] += f.Op == VmOp.Add64Imm ? (ulong)(long)ins.Imm : (ulong)-(long)ins.Imm;
                return;
            case >= VmOp.Ldx8 and <= VmOp.Ldxs32 when ConstantLoad(f, m[ins.Src], v[ins.Src], maps) is ulong loaded:
                Set(k, v, m, dst, loaded);
                return;
            case >= VmOp.Add64Imm and <= VmOp.Xor32Reg when Arithmetic(f.Op, reg, k, v, ins) is ulong result:
                Set(k, v, m, dst, result);
                return;
        }
        if (f.IsCall || f.IsLegacyPacketLoad)
            for (int r = 0; r <= 5; r++) { k[r] = false; m[r] = 0; }
        int writes = f.Writes;
        for (int r = 0; r < 11; r++)
            if ((writes & (1 << r)) != 0) { k[r] = false; m[r] = 0; }
    }

    /// <summary>What a load from <paramref name="offset"/> + the instruction's offset in map <paramref name="mapPlusOne"/>
    /// − 1's constant value reads (sign-extended for ldxs), or null when that is not a constant map or the bytes are
    /// not all inside its value.</summary>
    private static ulong? ConstantLoad(InstructionFacts f, int mapPlusOne, ulong offset, IReadOnlyList<MapValueShape?> maps)
    {
        if (mapPlusOne == 0 || maps[mapPlusOne - 1] is not { Constant: { } bytes }) return null;
        int size = BpfOpcodes.SizeBytes(f.Instruction.Opcode);
        long at = (long)offset + f.Instruction.Offset;
        if (at < 0 || at > bytes.Length - size) return null;
        var span = bytes.AsSpan((int)at, size);
        return f.Op switch
        {
            VmOp.Ldx8 => span[0],
            VmOp.Ldx16 => BinaryPrimitives.ReadUInt16LittleEndian(span),
            VmOp.Ldx32 => BinaryPrimitives.ReadUInt32LittleEndian(span),
            VmOp.Ldx64 => BinaryPrimitives.ReadUInt64LittleEndian(span),
            VmOp.Ldxs8 => (ulong)(long)(sbyte)span[0],
            VmOp.Ldxs16 => (ulong)(long)BinaryPrimitives.ReadInt16LittleEndian(span),
            _ => (ulong)(long)BinaryPrimitives.ReadInt32LittleEndian(span),
        };
    }

    private static void Set(Span<bool> k, Span<ulong> v, Span<int> m, int r, ulong value)
    {
        k[r] = true;
        v[r] = value;
        m[r] = 0;
    }

    /// <summary>add, sub, and, or, xor, shifts and mul of constants (64- and 32-bit), else null.</summary>
    private static ulong? Arithmetic(VmOp op, bool reg, ReadOnlySpan<bool> k, ReadOnlySpan<ulong> v, BpfInstruction ins)
    {
        if (!k[ins.Dst] || reg && !k[ins.Src]) return null;
        bool is64 = op < VmOp.Add32Imm;
        ulong a = v[ins.Dst], b = reg ? v[ins.Src] : (ulong)(long)ins.Imm;
        VmOp basic = is64 ? op : op - (VmOp.Add32Imm - VmOp.Add64Imm);
        if (reg) basic--; // the Imm form
        ulong? r = basic switch
        {
            VmOp.Add64Imm => a + b,
            VmOp.Sub64Imm => a - b,
            VmOp.Mul64Imm => a * b,
            VmOp.Or64Imm => a | b,
            VmOp.And64Imm => a & b,
            VmOp.Xor64Imm => a ^ b,
            VmOp.Lsh64Imm => a << (int)(b & (is64 ? 63UL : 31UL)),
            VmOp.Rsh64Imm => is64 ? a >> (int)(b & 63) : (ulong)((uint)a >> (int)(b & 31)),
            _ => null,
        };
        return r is ulong x && !is64 ? (uint)x : r;
    }
}
