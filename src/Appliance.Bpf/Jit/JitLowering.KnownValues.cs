using Appliance.Bpf.Isa;

namespace Appliance.Bpf.Jit;

/// <summary>What straight-line code before an instruction says about a register: a constant it was set to, or the
/// frame pointer plus a constant, when the instruction setting it and every one between run only one after the
/// other (no jump lands in between, nothing in between writes the register). Lets an inline helper drop the
/// run-time checks the values make needless (a constant length, a buffer in the current frame).</summary>
internal sealed partial class JitLowering
{
    /// <summary>Instructions control can reach other than from the one before: jump targets, functions and callbacks.</summary>
    private bool[]? _blockStarts;

    private bool BlockStart(int i)
    {
        if (_blockStarts is null)
        {
            _blockStarts = new bool[_code.Length + 1];
            _blockStarts[0] = true;
            foreach (var ins in _code)
                if (ins.Op is VmOp.Ja or VmOp.CallLocal || Branch(ins.Op, out _, out _, out _))
                    if ((uint)ins.Offset < (uint)_blockStarts.Length) _blockStarts[ins.Offset] = true;
            foreach (int entry in _callbacks) _blockStarts[entry] = true;
        }
        return _blockStarts[i];
    }

    /// <summary>r<paramref name="register"/> before instruction <paramref name="i"/>: (false, constant) or (true, the
    /// offset from r10), or null when straight-line code does not tell.</summary>
    private (bool FromFrame, long Value)? Known(int i, int register)
    {
        if (register == 10) return (true, 0);
        for (int j = i - 1; j >= 0 && !BlockStart(j + 1); j--)
        {
            var ins = _code[j];
            var op = ins.Op;
            if (op is VmOp.WideTail or (>= VmOp.St8 and <= VmOp.Stx64) or (>= VmOp.CtxSt32 and <= VmOp.CtxStxNarrow)
                || Branch(op, out _, out _, out _))
                continue;                                                    // writes no register
            if (op is not ((>= VmOp.Add64Imm and <= VmOp.Be64) or VmOp.LoadImm64 or (>= VmOp.Ldx8 and <= VmOp.Ldxs32)
                or (>= VmOp.CtxLdx8 and <= VmOp.CtxLdx64)))
                return null;                                                 // a call, an atomic, an exit, a legacy load
            if (ins.Dst != register) continue;
            return op switch
            {
                VmOp.Mov64Imm or VmOp.LoadImm64 => (false, ins.Imm),
                VmOp.Mov32Imm => (false, (uint)ins.Imm),
                VmOp.Mov64Reg => Known(j, ins.Src),
                VmOp.Add64Imm => Known(j, register) is { } k ? (k.FromFrame, k.Value + ins.Imm) : null,
                VmOp.Sub64Imm => Known(j, register) is { } k ? (k.FromFrame, k.Value - ins.Imm) : null,
                _ => null,
            };
        }
        return null;
    }
}
