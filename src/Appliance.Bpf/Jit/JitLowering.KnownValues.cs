using Appliance.Bpf.Isa;
using Appliance.Bpf.Verifier;

namespace Appliance.Bpf.Jit;

/// <summary>What straight-line code before an instruction says about a register: a constant it was set to, or the
/// frame pointer plus a constant, when the instruction setting it and every one between run only one after the
/// other (no jump lands in between, nothing in between writes the register). Lets an inline helper drop the
/// run-time checks the values make needless (a constant length, a buffer in the current frame). And the region
/// delta of a register already translated in the same straight-line code (see <see cref="RegionDelta"/>).</summary>
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

    /// <summary>What an instruction does to the registers: writes none, writes its destination alone, or anything else
    /// (calls, atomics, exits, legacy packet loads: taken as writing every register).</summary>
    private enum RegisterEffect : byte { None, Destination, Any }

    private static RegisterEffect EffectOf(VmOp op) => op switch
    {
        VmOp.WideTail or (>= VmOp.St8 and <= VmOp.Stx64) or (>= VmOp.CtxSt32 and <= VmOp.CtxStxNarrow) => RegisterEffect.None,
        (>= VmOp.Add64Imm and <= VmOp.Be64) or VmOp.LoadImm64 or (>= VmOp.Ldx8 and <= VmOp.Ldxs32) or (>= VmOp.CtxLdx8 and <= VmOp.CtxLdx64)
            => RegisterEffect.Destination,
        _ => Branch(op, out _, out _, out _) ? RegisterEffect.None : RegisterEffect.Any,
    };

    /// <summary>The eBPF registers whose region delta (host minus virtual address of the region a map-value or global
    /// pointer points into) is in <see cref="JitState.RegionDeltas"/> for the current instruction: set where an access
    /// the verifier proved (<see cref="AccessProof.Region"/>) translated the register and a later one in the same
    /// straight-line code uses it again; forgotten when the register is written, at a jump target, at anything
    /// taken as writing every register and after a runtime call inside an instruction (the VM may change the region
    /// table only there). Nothing else changes a region's delta during straight-line code, so each later access is
    /// its delta + the register, as the first translation would give.</summary>
    private int _regionDeltas;

    /// <summary>What the region-delta record keeps after instruction <paramref name="ins"/>.</summary>
    private void AfterInstruction(DecodedInstruction ins)
    {
        switch (EffectOf(ins.Op))
        {
            case RegisterEffect.Destination: _regionDeltas &= ~(1 << ins.Dst); break;
            case RegisterEffect.Any: _regionDeltas = 0; break;
        }
    }

    /// <summary>The register a load, store or atomic addresses memory through, or -1.</summary>
    private static int AccessBase(DecodedInstruction ins) => ins.Op switch
    {
        >= VmOp.Ldx8 and <= VmOp.Ldxs32 => ins.Src,
        (>= VmOp.St8 and <= VmOp.Stx64) or (>= VmOp.AtomicAdd32 and <= VmOp.AtomicCmpXchg64) => ins.Dst,
        _ => -1,
    };

    /// <summary>Whether a later instruction of the straight-line code after <paramref name="i"/> makes a proven region
    /// access through r<paramref name="register"/> before anything forgets its delta (then instruction i keeps it).</summary>
    private bool RegionDeltaUsedAgain(int i, int register)
    {
        if (EffectOf(_code[i].Op) == RegisterEffect.Destination && _code[i].Dst == register) return false;
        for (int j = i + 1; j < _code.Length && !BlockStart(j); j++)
        {
            var ins = _code[j];
            if (j < _proofs.Length && _proofs[j] == AccessProof.Region && AccessBase(ins) == register) return true;
            switch (EffectOf(ins.Op))
            {
                case RegisterEffect.Destination when ins.Dst == register: return false;
                case RegisterEffect.Any: return false;
            }
        }
        return false;
    }

    /// <summary>T2 = the region delta of r<paramref name="register"/> for instruction <paramref name="i"/>'s proven
    /// region access: from <see cref="JitState.RegionDeltas"/> when straight-line code translated the register
    /// already, else from the region its address's upper half names (kept when used again). Clobbers T1.</summary>
    private void RegionDelta(int i, int register)
    {
        int slot = JitState.RegionDeltasOffset + 8 * register;
        if ((_regionDeltas & 1 << register) != 0)
        {
            _e.LoadState(JReg.T2, slot);
            return;
        }
        ComputeRegionDelta(register);
        if (!RegionDeltaUsedAgain(i, register)) return;
        _e.StoreState(slot, JReg.T2);
        _regionDeltas |= 1 << register;
    }

    /// <summary>T2 = the delta of the region r<paramref name="register"/>'s address names (its upper half). Clobbers T1.</summary>
    private void ComputeRegionDelta(int register)
    {
        _e.LoadBpf(JReg.T2, register);
        _e.AluImm(JAlu.Rsh, true, JReg.T2, 32);                  // region id (offsets the verifier allows never reach the upper half)
        _e.AluImm(JAlu.Lsh, true, JReg.T2, 5);
        _e.LoadState(JReg.T1, JitState.RegionsOffset);
        _e.Alu(JAlu.Add, true, JReg.T1, JReg.T2);
        _e.Load(JReg.T2, JReg.T1, 16, 8, false);                 // region host address
        _e.Load(JReg.T1, JReg.T1, 0, 8, false);                  // region start
        _e.Alu(JAlu.Sub, true, JReg.T2, JReg.T1);
    }

    /// <summary>How far back <see cref="Known"/> looks: instructions, counted over the chain of moves and adds it
    /// follows. A value set further back is not known (its checks stay); the bound keeps a long straight line cheap
    /// to compile.</summary>
    internal const int KnownValueReach = 64;

    /// <summary>r<paramref name="register"/> before instruction <paramref name="i"/>: (false, constant) or (true, the
    /// offset from r10), or null when straight-line code does not tell within <see cref="KnownValueReach"/>
    /// instructions. A loop: a `mov` from another register follows that one, an `add`/`sub` of a constant adds to the
    /// offset, so a chain of any length costs no stack (a recursion per link overflowed it at ~10,000 links, which a
    /// verifier-valid program may have, and took the appliance down while it loaded the program).</summary>
    private (bool FromFrame, long Value)? Known(int i, int register)
    {
        long offset = 0;
        for (int j = i - 1, steps = 0; ; j--)
        {
            if (register == 10) return (true, offset);
            if (j < 0 || BlockStart(j + 1) || ++steps > KnownValueReach) return null;
            var ins = _code[j];
            var effect = EffectOf(ins.Op);
            if (effect == RegisterEffect.Any) return null;                   // a call, an atomic, an exit, a legacy load
            if (effect == RegisterEffect.None || ins.Dst != register) continue;
            switch (ins.Op)
            {
                case VmOp.Mov64Imm or VmOp.LoadImm64: return (false, ins.Imm + offset);
                case VmOp.Mov32Imm: return (false, (uint)ins.Imm + offset);
                case VmOp.Mov64Reg: register = ins.Src; break;
                case VmOp.Add64Imm: offset += ins.Imm; break;
                case VmOp.Sub64Imm: offset -= ins.Imm; break;
                default: return null;
            }
        }
    }
}
