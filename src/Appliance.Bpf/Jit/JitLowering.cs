using Appliance.Bpf.Context;
using Appliance.Bpf.Isa;
using Appliance.Bpf.Maps;
using Appliance.Bpf.Verifier;
using Appliance.Bpf.Vm;

namespace Appliance.Bpf.Jit;

/// <summary>The architecture-independent half of the JIT: turns a verified, pre-decoded program into
/// <see cref="JitEmitter"/> operations with the interpreter's exact semantics. eBPF registers live in host
/// registers and go to <see cref="JitState.Regs"/> (shared with the interpreter and the helpers) around runtime
/// calls and at exit. Context accesses the verifier proved (the Ctx* operations) read and write the shadow
/// <c>__sk_buff</c> in the state directly; accesses through r10 with a constant offset inside the measured
/// frame are proven in bounds by the verifier and go straight to the stack; every other access is checked against the region mirror, and whatever the inline check does not accept
/// goes to the interpreter's own translation (writable context fields, or the fault). Back edges charge the
/// instruction budget with the length of the loop they close; bpf-to-bpf calls keep the interpreter's frames
/// (r6–r10 saved, depth limit 8) and stack region; helpers and the interpreter's translation are runtime calls
/// the VM makes between two entries of the code (see <see cref="Yield"/>).</summary>
internal sealed partial class JitLowering
{
    private readonly JitEmitter _e;
    private readonly DecodedInstruction[] _code;
    private readonly int[] _labels;
    private readonly List<Action> _deferred = [];
    private readonly int _exitDone, _exitFault, _exitTail, _exitYield, _helperOutcome;
    private readonly int _frameBytes;
    private readonly AccessProof[] _proofs;
    private readonly InlineMap[] _inlineMaps;
    private readonly bool _linuxHelpers;
    private readonly int[] _callbacks;

    /// <summary>Whether the program has bpf-to-bpf calls or callbacks: code that may run at a call depth above 0.</summary>
    private readonly bool _calls;

    /// <summary>Set while compiling a map lookup whose result's region delta the code keeps in r0's slot of
    /// <see cref="JitState.RegionDeltas"/> (a proven access through r0 follows in the same straight-line code).</summary>
    private bool _r0DeltaKept;

    /// <summary>Loads, stores and atomics compiled with the run-time bounds check (the rest were proven).</summary>
    private int _checkedAccesses;

    private JitLowering(JitEmitter emitter, DecodedInstruction[] code, int frameBytes, AccessProof[] proofs, InlineMap[] inlineMaps, bool linuxHelpers,
        int[] callbacks)
    {
        _linuxHelpers = linuxHelpers;
        _callbacks = callbacks;
        _e = emitter;
        _code = code;
        _frameBytes = frameBytes;
        _proofs = proofs;
        _inlineMaps = inlineMaps;
        _calls = callbacks.Length > 0 || code.Any(ins => ins.Op == VmOp.CallLocal);
        _labels = new int[code.Length];
        for (int i = 0; i < code.Length; i++) _labels[i] = _e.NewLabel();
        _exitDone = _e.NewLabel();
        _exitFault = _e.NewLabel();
        _exitTail = _e.NewLabel();
        _exitYield = _e.NewLabel();
        _helperOutcome = _e.NewLabel();
    }

    /// <summary>Machine code for <paramref name="code"/> (the decoded program plus its final Invalid sentinel).
    /// Entry: <c>void (JitState*)</c>. <paramref name="frameBytes"/> is the verifier's measured frame depth: the
    /// VM's stack region ends there, so only r10-relative accesses above it skip the check.
    /// <paramref name="proofs"/> are the verifier's per-instruction access proofs (<see cref="PointerAnalysis"/>):
    /// proven accesses translate their address without the check. <paramref name="checkedAccesses"/> counts the
    /// accesses compiled with the run-time check. <paramref name="inlineMaps"/> are the maps whose
    /// <c>bpf_map_lookup_elem</c> the code does itself; <paramref name="linuxHelpers"/> says the program runs under
    /// the Linux helper table, whose <c>bpf_skb_load_bytes</c> the code does itself too, and its <c>bpf_loop</c>
    /// (<paramref name="callbacks"/>: the program's callback entries, see <c>InlineLoop</c>).</summary>
    public static byte[] Compile(DecodedInstruction[] code, int frameBytes, AccessProof[] proofs, JitEmitter emitter, out int checkedAccesses,
        InlineMap[] inlineMaps, bool linuxHelpers, int[] callbacks)
    {
        if (linuxHelpers) CheckCallbackDispatch(code, callbacks.Length);
        var lowering = new JitLowering(emitter, code, frameBytes, proofs, inlineMaps, linuxHelpers, callbacks);
        lowering.Body();
        checkedAccesses = lowering._checkedAccesses;
        return emitter.Finish();
    }

    private void Body()
    {
        _e.UsedRegisters = UsedRegisters(_code);
        _e.RegisterUses = RegisterUses(_code);
        _e.Prologue();
        // Entry: from the start, or where a runtime call left off (see Yield).
        int start = _e.NewLabel();
        _e.LoadState(JReg.T0, JitState.ResumeOffset);
        _e.CompareImm(true, JReg.T0, 0);
        _e.JumpIf(JCond.Eq, start);
        _e.JumpRegister(JReg.T0);
        _e.Bind(start);
        for (int i = 0; i < _code.Length; i++)
        {
            if (BlockStart(i))
            {
                _e.Bind(_labels[i]);
                _regionDeltas = 0;
            }
            else _e.BindFallThrough(_labels[i]);
            Instruction(i, _code[i]);
            AfterInstruction(_code[i]);
            if (_r0DeltaKept) _regionDeltas = 1;                          // a map lookup left r0's delta (or NULL)
            _r0DeltaKept = false;
        }
        for (int d = 0; d < _deferred.Count; d++) _deferred[d]();

        _e.Bind(_helperOutcome);
        _e.CompareImm(false, JReg.T0, JitState.HelperStop);
        _e.JumpIf(JCond.Eq, _exitDone);
        _e.CompareImm(false, JReg.T0, JitState.HelperTailCall);
        _e.JumpIf(JCond.Eq, _exitTail);
        _e.Jump(_exitFault);
        Exit(_exitDone, JitState.StatusDone);
        Exit(_exitFault, JitState.StatusFault);
        Exit(_exitTail, JitState.StatusTailCall);
        _e.Bind(_exitYield);
        _e.Epilogue();
    }

    /// <summary>A runtime call: the request goes into the state with the resume address, the code returns with
    /// <paramref name="status"/>, and the VM calls it again with the answer in T0 (no managed code is ever called
    /// from compiled code, so it runs without a GC transition). arg1 is <paramref name="arg1Register"/> when
    /// given, else <paramref name="arg1"/>. Clobbers every scratch register.</summary>
    private void Yield(int status, JReg? arg1Register, long arg1, long arg2)
    {
        if (arg1Register is { } a) _e.StoreState(JitState.CallArg1Offset, a);
        else
        {
            _e.MovImm(JReg.T2, arg1);
            _e.StoreState(JitState.CallArg1Offset, JReg.T2);
        }
        _e.MovImm(JReg.T2, arg2);
        _e.StoreState(JitState.CallArg2Offset, JReg.T2);
        int resume = _e.NewLabel();
        _e.LabelAddress(JReg.T2, resume);
        _e.StoreState(JitState.ResumeOffset, JReg.T2);
        _e.StoreStateImm32(JitState.StatusOffset, status);
        _e.Jump(_exitYield);
        _e.Bind(resume);
        _e.LoadState(JReg.T0, JitState.CallResultOffset);
    }

    private void Exit(int label, int status)
    {
        _e.Bind(label);
        _e.StoreStateImm32(JitState.StatusOffset, status);
        _e.Epilogue(resultOnly: status == JitState.StatusDone);
    }

    /// <summary>A label whose out-of-line block ends the run with <paramref name="fault"/> at instruction <paramref name="pc"/>.</summary>
    private int FaultLabel(int pc, BpfFault fault)
    {
        int label = _e.NewLabel();
        _deferred.Add(() =>
        {
            _e.Bind(label);
            _e.StoreStateImm32(JitState.FaultPcOffset, pc);
            _e.StoreStateImm32(JitState.FaultKindOffset, (int)fault);
            _e.Jump(_exitFault);
        });
        return label;
    }

    private void Instruction(int i, DecodedInstruction ins)
    {
        var op = ins.Op;
        if (SimpleAlu(op, out var alu, out bool is64, out bool imm))
        {
            if (imm ? _e.AluImmBpf(alu, is64, ins.Dst, alu is JAlu.Lsh or JAlu.Rsh or JAlu.Arsh ? (int)ins.Imm & (is64 ? 63 : 31) : (int)ins.Imm)
                    : alu is not (JAlu.Lsh or JAlu.Rsh or JAlu.Arsh) && _e.AluBpf(alu, is64, ins.Dst, ins.Src))
                return;
            _e.LoadBpf(JReg.T0, ins.Dst);
            if (imm)
            {
                int value = (int)ins.Imm;
                if (alu is JAlu.Lsh or JAlu.Rsh or JAlu.Arsh) value &= is64 ? 63 : 31;
                _e.AluImm(alu, is64, JReg.T0, value);
            }
            else
            {
                _e.LoadBpf(JReg.T1, ins.Src);
                _e.Alu(alu, is64, JReg.T0, JReg.T1);
            }
            _e.StoreBpf(ins.Dst, JReg.T0);
            return;
        }
        if (Division(op, out is64, out bool signed, out bool modulo, out imm))
        {
            DivMod(ins, is64, signed, modulo, imm);
            return;
        }
        if (Branch(op, out var cond, out is64, out imm))
        {
            if (imm ? _e.CompareImmBpf(is64, cond == JCond.Set, ins.Dst, (int)ins.Imm) : _e.CompareBpf(is64, cond == JCond.Set, ins.Dst, ins.Src))
            {
                Goto(i, ins.Offset, cond);
                return;
            }
            _e.LoadBpf(JReg.T0, ins.Dst);
            if (!imm) _e.LoadBpf(JReg.T1, ins.Src);
            if (cond == JCond.Set)
            {
                if (imm) _e.TestImm(is64, JReg.T0, (int)ins.Imm);
                else _e.Test(is64, JReg.T0, JReg.T1);
            }
            else if (imm) _e.CompareImm(is64, JReg.T0, (int)ins.Imm);
            else _e.Compare(is64, JReg.T0, JReg.T1);
            Goto(i, ins.Offset, cond);
            return;
        }
        if (op is >= VmOp.AtomicAdd32 and <= VmOp.AtomicCmpXchg64)
        {
            Atomic(i, ins);
            return;
        }
        switch (op)
        {
            case VmOp.Neg64 or VmOp.Neg32:
                _e.LoadBpf(JReg.T0, ins.Dst);
                _e.Neg(op == VmOp.Neg64, JReg.T0);
                _e.StoreBpf(ins.Dst, JReg.T0);
                break;
            case VmOp.Mov64Reg when _e.MovBpf(true, ins.Dst, ins.Src):
            case VmOp.Mov32Reg when _e.MovBpf(false, ins.Dst, ins.Src):
                break;
            case VmOp.Mov64Imm or VmOp.LoadImm64:
                SetRegister(ins.Dst, ins.Imm);
                break;
            case VmOp.Mov32Imm:
                SetRegister(ins.Dst, (uint)ins.Imm);
                break;
            case VmOp.Mov64Reg:
            case VmOp.Mov32Reg:
            case VmOp.MovSx8To64 or VmOp.MovSx16To64 or VmOp.MovSx32To64 or VmOp.MovSx8To32 or VmOp.MovSx16To32:
                _e.LoadBpf(JReg.T0, ins.Src);
                switch (op)
                {
                    case VmOp.Mov32Reg: _e.ZeroExtend(JReg.T0, 32); break;
                    case VmOp.MovSx8To64: _e.SignExtend(JReg.T0, 8, true); break;
                    case VmOp.MovSx16To64: _e.SignExtend(JReg.T0, 16, true); break;
                    case VmOp.MovSx32To64: _e.SignExtend(JReg.T0, 32, true); break;
                    case VmOp.MovSx8To32: _e.SignExtend(JReg.T0, 8, false); break;
                    case VmOp.MovSx16To32: _e.SignExtend(JReg.T0, 16, false); break;
                }
                _e.StoreBpf(ins.Dst, JReg.T0);
                break;
            case VmOp.Be16 or VmOp.Bswap16 when _e.ByteSwapBpf(ins.Dst, 16):
            case VmOp.Be32 or VmOp.Bswap32 when _e.ByteSwapBpf(ins.Dst, 32):
            case VmOp.Be64 or VmOp.Bswap64 when _e.ByteSwapBpf(ins.Dst, 64):
            case VmOp.Le64:
                break;
            case VmOp.Le16 or VmOp.Le32 or VmOp.Be16 or VmOp.Be32 or VmOp.Be64
                or VmOp.Bswap16 or VmOp.Bswap32 or VmOp.Bswap64:
                _e.LoadBpf(JReg.T0, ins.Dst);
                switch (op)
                {
                    case VmOp.Le16: _e.ZeroExtend(JReg.T0, 16); break;
                    case VmOp.Le32: _e.ZeroExtend(JReg.T0, 32); break;
                    case VmOp.Le64: break;
                    case VmOp.Be16 or VmOp.Bswap16: _e.ByteSwap(JReg.T0, 16); break;
                    case VmOp.Be32 or VmOp.Bswap32: _e.ByteSwap(JReg.T0, 32); break;
                    default: _e.ByteSwap(JReg.T0, 64); break;
                }
                _e.StoreBpf(ins.Dst, JReg.T0);
                break;
            case VmOp.Ja:
                if (ins.Offset <= i) Charge(i, ins.Offset);
                _e.Jump(_labels[ins.Offset]);
                break;
            case VmOp.CallHelper:
                {
                    int done = _e.NewLabel();
                    bool lookup = ins.Imm == (int)Helpers.BpfHelperId.MapLookupElem && _inlineMaps.Length > 0;
                    // The result's region delta for the proven accesses through r0 just after the call (see RegionDelta).
                    _r0DeltaKept = lookup && RegionDeltaUsedAgain(i, 0);
                    if (lookup) InlineMapLookup(i, done);
                    else if (ins.Imm == (int)Helpers.BpfHelperId.SkbLoadBytes && _linuxHelpers) InlinePacketCopy(i, done, intoPacket: false);
                    else if (ins.Imm == (int)Helpers.BpfHelperId.Redirect && _linuxHelpers) InlineRedirect(done);
                    else if (ins.Imm == (int)Helpers.BpfHelperId.SkbStoreBytes && _linuxHelpers) InlinePacketCopy(i, done, intoPacket: true);
                    else if (ins.Imm == (int)Helpers.BpfHelperId.SkbVlanPush && _linuxHelpers) InlineVlanPush(done);
                    else if (ins.Imm == (int)Helpers.BpfHelperId.L3CsumReplace && _linuxHelpers) InlineChecksumReplace(done, l4: false);
                    else if (ins.Imm == (int)Helpers.BpfHelperId.L4CsumReplace && _linuxHelpers) InlineChecksumReplace(done, l4: true);
                    else if (ins.Imm == (int)Helpers.BpfHelperId.Loop && _linuxHelpers)
                    {
                        InlineLoop(i, done);
                        _e.Bind(done);
                        break;
                    }
                    else if (ins.Imm == (int)Helpers.BpfHelperId.ForEachMapElem && _linuxHelpers)
                    {
                        ForEachMapElem(i, done);
                        _e.Bind(done);
                        break;
                    }
                    _e.StoreStateImm32(JitState.FaultPcOffset, i);
                    Yield(JitState.StatusHelper, null, (int)ins.Imm, 0);
                    _e.CompareImm(false, JReg.T0, JitState.HelperContinue);
                    _e.JumpIf(JCond.Ne, _helperOutcome);
                    if (_r0DeltaKept)
                    {
                        // The helper's element (NULL: nothing to keep).
                        _e.LoadBpf(JReg.T2, 0);
                        _e.CompareImm(true, JReg.T2, 0);
                        _e.JumpIf(JCond.Eq, done);
                        ComputeRegionDelta(0);
                        _e.StoreState(JitState.RegionDeltasOffset, JReg.T2);
                    }
                    _e.Bind(done);
                    break;
                }
            case VmOp.CallReg:
                {
                    int done = _e.NewLabel();
                    if (_linuxHelpers && _callbacks.Length > 0) CallRegCallbacks(i, ins.Dst, done);
                    _e.StoreStateImm32(JitState.FaultPcOffset, i);
                    _e.LoadBpf(JReg.T0, ins.Dst);
                    Yield(JitState.StatusHelper, JReg.T0, 0, 1);
                    _e.CompareImm(false, JReg.T0, JitState.HelperContinue);
                    _e.JumpIf(JCond.Ne, _helperOutcome);
                    _e.Bind(done);
                    break;
                }
            case VmOp.CallLocal:
                CallLocal(i, ins.Offset);
                break;
            case VmOp.Exit:
                if (IsCallbackCode(i)) _e.StoreStateImm32(JitState.FaultPcOffset, i); // where a bad callback verdict faults
                Return();
                break;
            case VmOp.Ldx8 or VmOp.Ldx16 or VmOp.Ldx32 or VmOp.Ldx64 or VmOp.Ldxs8 or VmOp.Ldxs16 or VmOp.Ldxs32:
                {
                    int size = op switch { VmOp.Ldx8 or VmOp.Ldxs8 => 1, VmOp.Ldx16 or VmOp.Ldxs16 => 2, VmOp.Ldx32 or VmOp.Ldxs32 => 4, _ => 8 };
                    var at = HostAddress(i, ins.Src, ins.Offset, size, write: false);
                    bool signExtend = op is VmOp.Ldxs8 or VmOp.Ldxs16 or VmOp.Ldxs32;
                    if (_e.LoadBpfFrom(ins.Dst, at, size, signExtend)) break;
                    _e.Load(JReg.T0, at, size, signExtend);
                    _e.StoreBpf(ins.Dst, JReg.T0);
                    break;
                }
            case VmOp.St8 or VmOp.St16 or VmOp.St32 or VmOp.St64 or VmOp.Stx8 or VmOp.Stx16 or VmOp.Stx32 or VmOp.Stx64:
                {
                    int size = op switch { VmOp.St8 or VmOp.Stx8 => 1, VmOp.St16 or VmOp.Stx16 => 2, VmOp.St32 or VmOp.Stx32 => 4, _ => 8 };
                    var at = HostAddress(i, ins.Dst, ins.Offset, size, write: true);
                    if (op is VmOp.St8 or VmOp.St16 or VmOp.St32 or VmOp.St64) _e.MovImm(JReg.T1, ins.Imm);
                    else if (_e.StoreBpfTo(at, ins.Src, size)) break;
                    else _e.LoadBpf(JReg.T1, ins.Src);
                    _e.Store(at, JReg.T1, size);
                    break;
                }
            case VmOp.CtxLdx8 or VmOp.CtxLdx16 or VmOp.CtxLdx32 or VmOp.CtxLdx64:
                // Proven by the verifier: a readable field of the shadow __sk_buff, which lives in the state.
                _e.LoadStateSized(JReg.T0, JitState.ContextOffset + ins.Offset, op switch { VmOp.CtxLdx8 => 1, VmOp.CtxLdx16 => 2, VmOp.CtxLdx32 => 4, _ => 8 });
                _e.StoreBpf(ins.Dst, JReg.T0);
                break;
            case VmOp.CtxSt32 or VmOp.CtxSt64 or VmOp.CtxStx32 or VmOp.CtxStx64:
                if (op is VmOp.CtxSt32 or VmOp.CtxSt64) _e.MovImm(JReg.T1, ins.Imm);
                else _e.LoadBpf(JReg.T1, ins.Src);
                _e.StoreStateSized(JitState.ContextOffset + ins.Offset, JReg.T1, op is VmOp.CtxSt32 or VmOp.CtxStx32 ? 4 : 8);
                break;
            case VmOp.CtxStNarrow:
                // A verified 4-byte store of an immediate to tc_index, tc_classid or queue_mapping: what the 16-bit field
                // keeps is known here (SkBuffShadow.NarrowStoreResult); an ignored queue_mapping store is no store.
                if (!(ins.Offset == SkBuffLayout.QueueMapping && SkBuffShadow.IgnoredByQueueMapping(immediate: true, (ulong)(long)ins.Imm)))
                    _e.StoreStateImm32(JitState.ContextOffset + ins.Offset, (ushort)ins.Imm);
                break;
            case VmOp.CtxStxNarrow:
                {
                    // The same from a register: queue_mapping ignores it from NoQueueMapping up (all 64 bits, unsigned).
                    int skip = _e.NewLabel();
                    _e.LoadBpf(JReg.T1, ins.Src);
                    if (ins.Offset == SkBuffLayout.QueueMapping)
                    {
                        _e.CompareImm(true, JReg.T1, (int)SkBuffLayout.NoQueueMapping);
                        _e.JumpIf(JCond.UGe, skip);
                    }
                    _e.ZeroExtend(JReg.T1, 16);
                    _e.StoreStateSized(JitState.ContextOffset + ins.Offset, JReg.T1, 4);
                    _e.Bind(skip);
                    break;
                }
            case >= VmOp.LdAbs8 and <= VmOp.LdInd32:
                LegacyPacketLoad(i, ins);
                break;
            case VmOp.WideTail:
                break;
            default: // the sentinel after the last instruction, or anything the decoder could not classify
                _e.StoreStateImm32(JitState.FaultPcOffset, i);
                _e.StoreStateImm32(JitState.FaultKindOffset, (int)BpfFault.InvalidInstruction);
                _e.Jump(_exitFault);
                break;
        }
    }

    /// <summary>r<paramref name="register"/> = <paramref name="value"/>: one instruction where the emitter keeps the
    /// register in a host register, else through T0.</summary>
    private void SetRegister(int register, long value)
    {
        if (_e.MovImmBpf(register, value)) return;
        _e.MovImm(JReg.T0, value);
        _e.StoreBpf(register, JReg.T0);
    }

    /// <summary>A jump to <paramref name="target"/> when <paramref name="cond"/> holds; a back edge first charges the budget.</summary>
    private void Goto(int i, int target, JCond cond)
    {
        if (target > i)
        {
            _e.JumpIf(cond, _labels[target]);
            return;
        }
        int back = _e.NewLabel();
        _e.JumpIf(cond, back);
        _deferred.Add(() =>
        {
            _e.Bind(back);
            Charge(i, target);
            _e.Jump(_labels[target]);
        });
    }

    /// <summary>Charges a loop iteration (the instructions from <paramref name="target"/> to <paramref name="i"/>)
    /// to the budget and ends the run when it is spent.</summary>
    private void Charge(int i, int target) => ChargeBudget(i, i - target + 1);

    /// <summary>Takes <paramref name="instructions"/> from the budget and ends the run at <paramref name="i"/> when it
    /// is spent. Clobbers T2.</summary>
    private void ChargeBudget(int i, int instructions)
    {
        _e.LoadState(JReg.T2, JitState.BudgetOffset);
        _e.AluImm(JAlu.Sub, true, JReg.T2, instructions);
        _e.StoreState(JitState.BudgetOffset, JReg.T2);
        _e.CompareImm(true, JReg.T2, 0);
        _e.JumpIf(JCond.SLt, FaultLabel(i, BpfFault.BudgetExhausted));
    }

    private void DivMod(DecodedInstruction ins, bool is64, bool signed, bool modulo, bool imm)
    {
        _e.LoadBpf(JReg.T0, ins.Dst);
        if (imm) _e.MovImm(JReg.T1, ins.Imm);
        else _e.LoadBpf(JReg.T1, ins.Src);
        int zero = _e.NewLabel(), done = _e.NewLabel(), minusOne = _e.NewLabel();
        _e.CompareImm(is64, JReg.T1, 0);
        _e.JumpIf(JCond.Eq, zero);
        if (signed)
        {
            _e.CompareImm(is64, JReg.T1, -1);
            _e.JumpIf(JCond.Eq, minusOne);
        }
        _e.Divide(is64, signed, modulo);
        _e.Jump(done);
        _e.Bind(zero);
        if (!modulo) _e.MovImm(JReg.T0, 0);             // x / 0 = 0
        else if (!is64) _e.ZeroExtend(JReg.T0, 32);     // x % 0 = x (32-bit: zero-extended)
        if (signed)
        {
            _e.Jump(done);
            _e.Bind(minusOne);
            if (modulo) _e.MovImm(JReg.T0, 0);          // x % -1 = 0
            else _e.Neg(is64, JReg.T0);                 // x / -1 = -x (INT_MIN stays INT_MIN)
        }
        _e.Bind(done);
        _e.StoreBpf(ins.Dst, JReg.T0);
    }

    /// <summary>The host operand of [r<paramref name="baseReg"/> + <paramref name="offset"/>, +<paramref name="size"/>);
    /// faults the run when the access is not allowed. Accesses the verifier proved in bounds (<see cref="AccessProof"/>)
    /// only translate: inside the stack or the packet host = virtual + the region's delta (an operand the emitter
    /// forms itself); else the region is named by the address's upper half, and host = virtual - region start +
    /// region host (T0 + the offset). Clobbers T0–T3.</summary>
    private JMem HostAddress(int i, int baseReg, int offset, int size, bool write)
    {
        var proof = i < _proofs.Length ? _proofs[i] : AccessProof.None;
        if (proof is AccessProof.Stack or AccessProof.Packet || baseReg == 10 && offset >= -_frameBytes && offset + size <= 0)
            return JMem.InRegion(proof == AccessProof.Packet ? JDelta.Packet : JDelta.Stack, baseReg, offset);
        if (proof == AccessProof.Region)
        {
            // The region is the one the address names: host = the register + its region delta (in T2) + the offset.
            RegionDelta(i, baseReg);
            return new JMem(JReg.T2, offset, JDelta.InBase, baseReg);
        }
        _e.LoadBpf(JReg.T0, baseReg);
        if (offset != 0) _e.AluImm(JAlu.Add, true, JReg.T0, offset);
        CheckedTranslate(i, size, write);
        return new JMem(JReg.T0, 0);
    }

    /// <summary>T0: virtual address in, host address out — the interpreter's fast path against the mirror.</summary>
    private void CheckedTranslate(int i, int size, bool write)
    {
        _checkedAccesses++;
        _regionDeltas = 0; // its slow path is a runtime call
        int slow = _e.NewLabel(), resume = _e.NewLabel();
        MirrorTranslate(size, write, slow);
        _e.Bind(resume);
        _deferred.Add(() =>
        {
            _e.Bind(slow);
            _e.StoreStateImm32(JitState.FaultPcOffset, i);
            Yield(JitState.StatusTranslate, JReg.T0, 0, size | (write ? 0x100 : 0));
            _e.CompareImm(true, JReg.T0, 0);
            _e.JumpIf(JCond.Eq, _exitFault);
            _e.Jump(resume);
        });
    }

    /// <summary>T1: a region id in, the address of its mirror entry out; a jump to <paramref name="outside"/>
    /// when the run has no such region. Clobbers T2.</summary>
    private void RegionEntry(int outside)
    {
        _e.LoadState(JReg.T2, JitState.RegionCountOffset);
        _e.Compare(true, JReg.T1, JReg.T2);
        _e.JumpIf(JCond.UGe, outside);
        _e.AluImm(JAlu.Lsh, true, JReg.T1, 5);
        _e.LoadState(JReg.T2, JitState.RegionsOffset);
        _e.Alu(JAlu.Add, true, JReg.T1, JReg.T2);
    }

    /// <summary>T1: a region's mirror entry. <paramref name="address"/> (a virtual address in) becomes its offset in
    /// the region and <paramref name="room"/> the bytes from there to the region's end; a jump to
    /// <paramref name="outside"/> when the offset is not below the region's length.</summary>
    private void OffsetInRegion(JReg address, JReg room, int outside)
    {
        _e.Load(room, JReg.T1, 0, 8, false);
        _e.Alu(JAlu.Sub, true, address, room);
        _e.Load(room, JReg.T1, 8, 8, false);
        _e.Compare(true, address, room);
        _e.JumpIf(JCond.UGe, outside);                          // offset < length
        _e.Alu(JAlu.Sub, true, room, address);
    }

    /// <summary>T1: a region's mirror entry; a jump to <paramref name="outside"/> unless it is writable. Clobbers T3.</summary>
    private void RequireWritable(int outside)
    {
        _e.Load(JReg.T3, JReg.T1, 24, 1, false);
        _e.TestImm(false, JReg.T3, 1);
        _e.JumpIf(JCond.Eq, outside);
    }

    /// <summary>T0 = the host address of the <paramref name="size"/>-byte key at r2 for the map lookup at instruction
    /// <paramref name="i"/>: r10 + a constant inside the measured frame when the code just before the call set r2 so
    /// (the proof of a direct access through r10), else r2 checked against the mirror (a jump to
    /// <paramref name="helper"/> when it is not readable there). Clobbers T1–T3.</summary>
    private void KeyAddress(int i, int size, int helper)
    {
        if (Known(i, 2) is (true, var k) && k >= -_frameBytes && k + size <= 0)
        {
            _e.Lea(JReg.T0, JMem.InRegion(JDelta.Stack, 10, (int)k));
            return;
        }
        _e.LoadBpf(JReg.T0, 2);
        MirrorTranslate(size, write: false, helper);
    }

    /// <summary>T0: virtual address in, host address out when the mirror's region accepts the access; else a
    /// jump to <paramref name="slow"/> with T0 unchanged. Clobbers T1–T3.</summary>
    private void MirrorTranslate(int size, bool write, int slow)
    {
        _e.Mov(JReg.T1, JReg.T0);
        _e.AluImm(JAlu.Rsh, true, JReg.T1, 32);                 // region id
        RegionEntry(slow);                                      // T1 = the region
        _e.Mov(JReg.T2, JReg.T0);
        OffsetInRegion(JReg.T2, JReg.T3, slow);                 // T2 = offset in the region, T3 = room from there
        _e.CompareImm(true, JReg.T3, size);
        _e.JumpIf(JCond.ULt, slow);                             // length - offset >= size
        if (write) RequireWritable(slow);
        _e.Load(JReg.T0, JReg.T1, 16, 8, false);
        _e.Alu(JAlu.Add, true, JReg.T0, JReg.T2);
    }

    /// <summary><c>bpf_map_lookup_elem</c> done in the code for the maps in <see cref="_inlineMaps"/> (arrays and
    /// hashes, plain and per-CPU): when r1 is one of them and the key at r2 is readable, r0 = the element's address
    /// (a region of its own in the mirror, as <see cref="BpfVm"/> makes for the helper; the VM takes such regions
    /// into its table at the next runtime call) or NULL when there is no such element, then on to
    /// <paramref name="done"/>. Anything else — another map, an unreadable key, a full region table, a CPU slot
    /// the map does not have, a hash index a writer is changing — falls through to the helper call, which decides
    /// exactly as the interpreter does.</summary>
    private void InlineMapLookup(int i, int done)
    {
        int helper = _e.NewLabel(), notFound = _e.NewLabel();
        // r1 set to a map's handle by the straight-line code before the call: only that map's lookup (or the helper).
        var maps = Known(i, 1) is (false, var handle)
            ? _inlineMaps.Where(m => m.Handle == (ulong)handle).ToArray()
            : _inlineMaps;
        var found = new int[maps.Length];
        if (maps.Length == 1 && maps != _inlineMaps) found[0] = _e.NewLabel();
        else
        {
            _e.LoadBpf(JReg.T0, 1);
            for (int m = 0; m < maps.Length; m++)
            {
                found[m] = _e.NewLabel();
                _e.MovImm(JReg.T1, (long)maps[m].Handle);
                _e.Compare(true, JReg.T0, JReg.T1);
                _e.JumpIf(JCond.Eq, found[m]);
            }
            _e.Jump(helper);
        }
        for (int m = 0; m < maps.Length; m++)
        {
            var map = maps[m];
            _e.Bind(found[m]);
            if (map.Hash is { } probe)
            {
                KeyAddress(i, probe.KeySize, helper);                      // T0 = the key's host address
                HashFind(probe, map.MaxEntries, helper, notFound);         // T0 = the key's slot
            }
            else if (map.Lpm is { } lpm)
            {
                KeyAddress(i, LpmProbe.KeySize, helper);
                LpmFind(lpm, map.MaxEntries, helper, notFound);            // T0 = the longest prefix's slot
            }
            else
            {
                KeyAddress(i, 4, helper);
                _e.Load(JReg.T0, JReg.T0, 0, 4, false);                     // the index
                _e.CompareImm(true, JReg.T0, map.MaxEntries);
                _e.JumpIf(JCond.UGe, notFound);
            }
            if (map.CpuCount > 1)
            {
                // The VM's CPU slot: element * CpuCount + cpu (the per-CPU maps' layout).
                _e.LoadStateSized(JReg.T1, JitState.ProcessorIdOffset, 4);
                _e.CompareImm(true, JReg.T1, map.CpuCount);
                _e.JumpIf(JCond.UGe, helper);
                _e.AluImm(JAlu.Mul, true, JReg.T0, map.CpuCount);
                _e.Alu(JAlu.Add, true, JReg.T0, JReg.T1);
            }
            _e.AluImm(JAlu.Mul, true, JReg.T0, map.Stride);                 // T0 = the element's offset in the values
            ElementRegion(map, helper, done, _r0DeltaKept);
        }

        _e.Bind(notFound);
        SetRegister(0, 0);
        _e.Jump(done);
        _e.Bind(helper);
    }

    /// <summary>r0 = the address of <paramref name="map"/>'s element at offset T0 of its values, then on to
    /// <paramref name="done"/>: the region the value cache names for the element when it is still this element's (the
    /// cache the VM's helper uses too: <see cref="JitState.ValueCache"/>), else a new region (<paramref name="helper"/>
    /// when the table has no room: the helper grows it). With <paramref name="keepDelta"/> the region's delta goes to
    /// r0's slot of <see cref="JitState.RegionDeltas"/>. Clobbers T0–T3 and the state's CallArg2.</summary>
    private void ElementRegion(InlineMap map, int helper, int done, bool keepDelta)
    {
        int create = _e.NewLabel(), reuse = _e.NewLabel();
        _e.Mov(JReg.T2, JReg.T0);                                         // T2 = its slot in the value cache
        _e.AluImm(JAlu.Add, false, JReg.T2, map.ValuesHash);
        _e.AluImm(JAlu.Mul, false, JReg.T2, JitState.ValueCacheMultiplier);
        _e.AluImm(JAlu.Rsh, false, JReg.T2, JitState.ValueCacheShift);
        _e.MovImm(JReg.T1, map.Values);
        _e.Alu(JAlu.Add, true, JReg.T0, JReg.T1);                         // T0 = the element's host address
        _e.AluImm(JAlu.Lsh, true, JReg.T2, 2);
        _e.StoreState(JitState.CallArg2Offset, JReg.T2);                  // T2 = the slot's offset in the cache
        _e.StateAddress(JReg.T1, JitState.ValueCacheOffset);
        _e.Alu(JAlu.Add, true, JReg.T1, JReg.T2);
        _e.Load(JReg.T1, JReg.T1, 0, 4, false);                           // T1 = the cached region id
        _e.LoadStateSized(JReg.T2, JitState.FirstDynamicRegionOffset, 4);
        _e.Compare(true, JReg.T1, JReg.T2);
        _e.JumpIf(JCond.ULt, create);
        _e.LoadState(JReg.T2, JitState.RegionCountOffset);
        _e.Compare(true, JReg.T1, JReg.T2);
        _e.JumpIf(JCond.UGe, create);
        _e.Mov(JReg.T2, JReg.T1);
        _e.AluImm(JAlu.Lsh, true, JReg.T2, 5);
        _e.LoadState(JReg.T3, JitState.RegionsOffset);
        _e.Alu(JAlu.Add, true, JReg.T2, JReg.T3);                         // T2 = the region
        _e.Load(JReg.T3, JReg.T2, 16, 8, false);
        _e.Compare(true, JReg.T3, JReg.T0);
        _e.JumpIf(JCond.Ne, create);
        _e.Load(JReg.T3, JReg.T2, 8, 8, false);
        _e.CompareImm(true, JReg.T3, map.ValueSize);
        _e.JumpIf(JCond.Ne, create);
        _e.Load(JReg.T3, JReg.T2, 24, 8, false);
        _e.CompareImm(true, JReg.T3, map.Writable ? 1 : 0);
        _e.JumpIf(JCond.Eq, reuse);

        _e.Bind(create);
        _e.LoadState(JReg.T1, JitState.RegionCountOffset);
        _e.LoadStateSized(JReg.T2, JitState.RegionCapacityOffset, 4);
        _e.Compare(true, JReg.T1, JReg.T2);
        _e.JumpIf(JCond.UGe, helper);                                     // no room: the helper grows the table
        _e.LoadState(JReg.T2, JitState.CallArg2Offset);
        _e.StateAddress(JReg.T3, JitState.ValueCacheOffset);
        _e.Alu(JAlu.Add, true, JReg.T3, JReg.T2);
        _e.Store(JReg.T3, 0, JReg.T1, 4);                                 // the cache names the new region
        _e.Mov(JReg.T2, JReg.T1);
        _e.AluImm(JAlu.Lsh, true, JReg.T2, 5);
        _e.LoadState(JReg.T3, JitState.RegionsOffset);
        _e.Alu(JAlu.Add, true, JReg.T2, JReg.T3);                         // T2 = the new region
        _e.Store(JReg.T2, 16, JReg.T0, 8);                                // host
        _e.MovImm(JReg.T3, map.ValueSize);
        _e.Store(JReg.T2, 8, JReg.T3, 8);                                 // length
        _e.MovImm(JReg.T3, map.Writable ? 1 : 0);
        _e.Store(JReg.T2, 24, JReg.T3, 8);                                // writable
        _e.Mov(JReg.T3, JReg.T1);
        _e.AluImm(JAlu.Lsh, true, JReg.T3, 32);
        _e.AluImm(JAlu.Or, true, JReg.T3, (int)VirtualAddress.WindowBase);
        _e.Store(JReg.T2, 0, JReg.T3, 8);                                 // start
        _e.AluImm(JAlu.Add, true, JReg.T1, 1);
        _e.StoreState(JitState.RegionCountOffset, JReg.T1);
        Result(JReg.T3);

        _e.Bind(reuse);                                                   // T1 = the region's id
        _e.AluImm(JAlu.Lsh, true, JReg.T1, 32);
        _e.AluImm(JAlu.Or, true, JReg.T1, (int)VirtualAddress.WindowBase);
        Result(JReg.T1);

        void Result(JReg start)                                           // r0 = the region's start; T0 = the host address
        {
            _e.StoreBpf(0, start);
            if (keepDelta)
            {
                _e.Alu(JAlu.Sub, true, JReg.T0, start);
                _e.StoreState(JitState.RegionDeltasOffset, JReg.T0);
            }
            _e.Jump(done);
        }
    }

    /// <summary>The lookup of <see cref="HashTableMap"/> (<c>FindSlot</c>) in the code, T0 the key's host address in:
    /// the map's seqlock sequence (odd: a writer is changing the index, so the helper, which waits), the key's
    /// hash as <see cref="HashSlots"/> computes it, the bucket's chain walked for a slot with the same hash and
    /// key bytes (at most one step per slot; a slot number out of range or a longer chain is a concurrent change),
    /// then the sequence again: unchanged, T0 = the slot or a jump to <paramref name="notFound"/>; changed (or a
    /// torn walk), a jump to <paramref name="helper"/>, which looks up again under the seqlock. Clobbers T1–T3
    /// and the state's Probe* fields.</summary>
    private void HashFind(HashProbe probe, int capacity, int helper, int notFound)
    {
        int miss = _e.NewLabel();
        SequenceBegin(probe, helper);
        HashWalk(probe, capacity, helper, miss);
        Conclude(probe, helper, miss, notFound);
    }

    /// <summary>The end of a lookup under the seqlock, after a walk that fell through with T2 = the slot found:
    /// T0 = the slot when the sequence is unchanged. <paramref name="none"/> (bound here) is where the lookup
    /// found nothing: a jump to <paramref name="notFound"/> when the sequence is unchanged. Changed: <paramref name="helper"/>.</summary>
    private void Conclude(HashProbe probe, int helper, int none, int notFound)
    {
        SequenceUnchanged(probe, helper);
        _e.Mov(JReg.T0, JReg.T2);
        int found = _e.NewLabel();
        _e.Jump(found);
        _e.Bind(none);
        SequenceUnchanged(probe, helper);
        _e.Jump(notFound);
        _e.Bind(found);
    }

    /// <summary>The lookup of <see cref="LpmTrieMap"/> in the code for { u32 prefixlen; u8 addr[4]; } keys, T0 the
    /// key's host address in: under the map's seqlock (as <see cref="HashFind"/>), while the map holds few prefix
    /// lengths (distinct × <see cref="LpmTrieMap.BitsPerProbe"/> ≤ wanted, where wanted = prefixlen; above 32 nothing is found) the
    /// exact-prefix index is probed with the address masked to each stored length ≤ wanted, longest first
    /// (<c>LongestByLength</c>); the first hit is the answer (T0 = its slot), none is <paramref name="notFound"/>.
    /// A map holding many lengths (the trie walk), a writer, or a change during the probes: <paramref name="helper"/>.</summary>
    private void LpmFind(LpmProbe lpm, int capacity, int helper, int notFound)
    {
        var probe = lpm.Index;
        int next = _e.NewLabel(), none = _e.NewLabel();
        _e.Load(JReg.T1, JReg.T0, 4, 4, false);
        _e.StoreState(JitState.ProbeAddressOffset, JReg.T1);              // the address as stored (network order)
        _e.Load(JReg.T3, JReg.T0, 0, 4, false);                           // T3 = wanted = prefixlen
        _e.CompareImm(true, JReg.T3, 32);
        _e.JumpIf(JCond.UGt, notFound);                                   // longer than the key: nothing (the kernel's trie_lookup_elem)
        SequenceBegin(probe, helper);
        _e.MovImm(JReg.T1, lpm.DistinctLengths);
        _e.Load(JReg.T1, JReg.T1, 0, 4, false);
        _e.AluImm(JAlu.Mul, true, JReg.T1, LpmTrieMap.BitsPerProbe);
        _e.Compare(true, JReg.T1, JReg.T3);
        _e.JumpIf(JCond.UGt, helper);                                     // many lengths: the trie (the helper)
        // ProbeLengths = the stored lengths <= wanted (bits 0..wanted of the first word).
        _e.AluImm(JAlu.Add, true, JReg.T3, 1);
        _e.Mov(JReg.T1, JReg.T3);
        _e.MovImm(JReg.T0, 1);
        _e.Alu(JAlu.Lsh, true, JReg.T0, JReg.T1);
        _e.AluImm(JAlu.Sub, true, JReg.T0, 1);
        _e.MovImm(JReg.T1, lpm.Lengths);
        _e.Load(JReg.T1, JReg.T1, 0, 8, false);
        _e.Alu(JAlu.And, true, JReg.T1, JReg.T0);
        _e.StoreState(JitState.ProbeLengthsOffset, JReg.T1);

        _e.Bind(next);                                                    // the longest length left
        _e.LoadState(JReg.T2, JitState.ProbeLengthsOffset);
        _e.CompareImm(true, JReg.T2, 0);
        _e.JumpIf(JCond.Eq, none);
        _e.Mov(JReg.T3, JReg.T2);
        _e.HighestBit(JReg.T3);                                           // T3 = len
        _e.MovImm(JReg.T0, 1);
        _e.Mov(JReg.T1, JReg.T3);
        _e.Alu(JAlu.Lsh, true, JReg.T0, JReg.T1);
        _e.Alu(JAlu.Xor, true, JReg.T2, JReg.T0);
        _e.StoreState(JitState.ProbeLengthsOffset, JReg.T2);
        // The exact key {len, address with the bits past len cleared}: mask = (0xffffffff << (32 - len)) in network order.
        _e.MovImm(JReg.T1, 32);
        _e.Alu(JAlu.Sub, true, JReg.T1, JReg.T3);
        _e.MovImm(JReg.T0, 0xFFFFFFFFL);
        _e.Alu(JAlu.Lsh, true, JReg.T0, JReg.T1);
        _e.ZeroExtend(JReg.T0, 32);
        _e.ByteSwap(JReg.T0, 32);
        _e.LoadState(JReg.T1, JitState.ProbeAddressOffset);
        _e.Alu(JAlu.And, true, JReg.T0, JReg.T1);
        _e.AluImm(JAlu.Lsh, true, JReg.T0, 32);
        _e.Alu(JAlu.Or, true, JReg.T0, JReg.T3);
        _e.StoreState(JitState.ProbeExactKeyOffset, JReg.T0);
        _e.StateAddress(JReg.T0, JitState.ProbeExactKeyOffset);
        HashWalk(probe, capacity, helper, next);                          // no such prefix: the next length
        Conclude(probe, helper, none, notFound);
    }

    /// <summary>The start of a read under the map's seqlock: a jump to <paramref name="helper"/> while a writer holds
    /// it (odd sequence), else the sequence kept in the state for <see cref="SequenceUnchanged"/>. Keeps T0 and T3;
    /// clobbers T1, T2.</summary>
    private void SequenceBegin(HashProbe probe, int helper)
    {
        _e.MovImm(JReg.T1, probe.Sequence);
        _e.Load(JReg.T2, JReg.T1, 0, 4, false);
        _e.TestImm(false, JReg.T2, 1);
        _e.JumpIf(JCond.Set, helper);
        _e.LoadFence();                                                 // the index is read after the sequence
        _e.StoreState(JitState.ProbeSequenceOffset, JReg.T2);
    }

    /// <summary><see cref="HashSlots"/>' <c>Find</c> in the code, T0 the key's host address in: the key's hash, then
    /// the bucket's chain walked for a slot with the same hash and key bytes (at most one step per slot). Found:
    /// falls through with T2 = the slot. The chain's end: a jump to <paramref name="miss"/>. A slot number out of
    /// range or a longer chain (a concurrent change): a jump to <paramref name="helper"/>. The caller checks the
    /// seqlock afterwards. Clobbers T0–T3 and the state's ProbeKey/Hash/Slot/Steps.</summary>
    private void HashWalk(HashProbe probe, int capacity, int helper, int miss)
    {
        int loop = _e.NewLabel(), next = _e.NewLabel(), mismatch = _e.NewLabel(), end = _e.NewLabel(), match = _e.NewLabel();
        _e.StoreState(JitState.ProbeKeyOffset, JReg.T0);
        // T1 = the hash (HashSlots.Hash: a key of at most 8 bytes as one word; a longer one by 8-byte words, a 4-byte
        // half and single bytes; then the final mix).
        _e.MovImm(JReg.T1, (long)(HashSlots.Seed ^ (ulong)probe.KeySize * HashSlots.LengthMix));
        void ShiftXor(int shift)
        {
            _e.Mov(JReg.T2, JReg.T1);
            _e.AluImm(JAlu.Rsh, true, JReg.T2, shift);
            _e.Alu(JAlu.Xor, true, JReg.T1, JReg.T2);
        }
        void MixWord(ulong multiplier)                                  // T1 = (T1 ^ T2) * multiplier
        {
            _e.Alu(JAlu.Xor, true, JReg.T1, JReg.T2);
            _e.MovImm(JReg.T3, (long)multiplier);
            _e.Alu(JAlu.Mul, true, JReg.T1, JReg.T3);
        }
        if (probe.KeySize <= HashSlots.WordKey)
        {
            // T2 = the key's bytes little-endian, zero-padded: the largest loads first, each shifted into place.
            for (int at = 0; at < probe.KeySize;)
            {
                int left = probe.KeySize - at, unit = left >= 8 ? 8 : left >= 4 ? 4 : left >= 2 ? 2 : 1;
                var into = at == 0 ? JReg.T2 : JReg.T3;
                _e.Load(into, JReg.T0, at, unit, false);
                if (at > 0)
                {
                    _e.AluImm(JAlu.Lsh, true, JReg.T3, 8 * at);
                    _e.Alu(JAlu.Or, true, JReg.T2, JReg.T3);
                }
                at += unit;
            }
            MixWord(HashSlots.WordMix);
        }
        else
        {
            int offset = 0;
            void Mix(int size, ulong multiplier, int shift)
            {
                _e.Load(JReg.T2, JReg.T0, offset, size, false);
                MixWord(multiplier);
                if (shift > 0) ShiftXor(shift);
                offset += size;
            }
            while (probe.KeySize - offset >= 8) Mix(8, HashSlots.WordMix, 31);
            if (probe.KeySize - offset >= 4) Mix(4, HashSlots.HalfMix, 29);
            while (offset < probe.KeySize) Mix(1, HashSlots.ByteMix, 0);
        }
        ShiftXor(32);
        _e.MovImm(JReg.T3, unchecked((long)HashSlots.FinalMix));
        _e.Alu(JAlu.Mul, true, JReg.T1, JReg.T3);
        ShiftXor(32);
        _e.ZeroExtend(JReg.T1, 32);
        _e.StoreState(JitState.ProbeHashOffset, JReg.T1);
        // T2 = the bucket's first slot; ProbeSteps = the steps left.
        _e.Mov(JReg.T2, JReg.T1);
        _e.AluImm(JAlu.And, true, JReg.T2, probe.BucketMask);
        _e.AluImm(JAlu.Lsh, true, JReg.T2, 2);
        _e.MovImm(JReg.T3, probe.Buckets);
        _e.Alu(JAlu.Add, true, JReg.T2, JReg.T3);
        _e.Load(JReg.T2, JReg.T2, 0, 4, false);
        _e.AluImm(JAlu.Sub, false, JReg.T2, 1);                          // links hold slot + 1: 0 (none) becomes 0xffffffff
        _e.MovImm(JReg.T3, capacity);
        _e.StoreState(JitState.ProbeStepsOffset, JReg.T3);

        _e.Bind(loop);                                                  // T1 = the hash, T2 = a slot (u32)
        _e.CompareImm(true, JReg.T2, capacity);
        _e.JumpIf(JCond.UGe, end);                                      // 0xffffffff: the chain's end; anything else: torn
        _e.Mov(JReg.T3, JReg.T2);
        _e.AluImm(JAlu.Lsh, true, JReg.T3, 2);
        _e.MovImm(JReg.T0, probe.Hashes);
        _e.Alu(JAlu.Add, true, JReg.T0, JReg.T3);
        _e.Load(JReg.T0, JReg.T0, 0, 4, false);
        _e.Compare(false, JReg.T0, JReg.T1);
        _e.JumpIf(JCond.Ne, next);
        // The same hash: compare the key bytes (T0 = the slot's key, T1 = the looked-up key).
        _e.StoreState(JitState.ProbeSlotOffset, JReg.T2);
        _e.Mov(JReg.T3, JReg.T2);
        _e.AluImm(JAlu.Mul, true, JReg.T3, probe.KeySize);
        _e.MovImm(JReg.T0, probe.Keys);
        _e.Alu(JAlu.Add, true, JReg.T0, JReg.T3);
        _e.LoadState(JReg.T1, JitState.ProbeKeyOffset);
        for (int at = 0; at < probe.KeySize;)
        {
            int size = probe.KeySize - at >= 8 ? 8 : probe.KeySize - at >= 4 ? 4 : probe.KeySize - at >= 2 ? 2 : 1;
            _e.Load(JReg.T3, JReg.T0, at, size, false);
            _e.Load(JReg.T2, JReg.T1, at, size, false);
            _e.Compare(true, JReg.T3, JReg.T2);
            _e.JumpIf(JCond.Ne, mismatch);
            at += size;
        }
        _e.LoadState(JReg.T2, JitState.ProbeSlotOffset);
        _e.Jump(match);
        _e.Bind(mismatch);
        _e.LoadState(JReg.T2, JitState.ProbeSlotOffset);
        _e.LoadState(JReg.T1, JitState.ProbeHashOffset);
        _e.Bind(next);                                                  // T2 = the next slot in the chain
        _e.LoadState(JReg.T3, JitState.ProbeStepsOffset);               // a link followed: one step of at most capacity
        _e.AluImm(JAlu.Sub, true, JReg.T3, 1);
        _e.StoreState(JitState.ProbeStepsOffset, JReg.T3);
        _e.CompareImm(true, JReg.T3, 0);
        _e.JumpIf(JCond.SLt, helper);
        _e.AluImm(JAlu.Lsh, true, JReg.T2, 2);
        _e.MovImm(JReg.T3, probe.Next);
        _e.Alu(JAlu.Add, true, JReg.T2, JReg.T3);
        _e.Load(JReg.T2, JReg.T2, 0, 4, false);
        _e.AluImm(JAlu.Sub, false, JReg.T2, 1);
        _e.Jump(loop);

        _e.Bind(end);
        _e.CompareImm(false, JReg.T2, -1);
        _e.JumpIf(JCond.Ne, helper);
        _e.Jump(miss);
        _e.Bind(match);
    }

    /// <summary>A jump to <paramref name="changed"/> unless the map's sequence is still the one <see cref="HashFind"/>
    /// started with (the index did not change during the walk). Clobbers T1, T3.</summary>
    private void SequenceUnchanged(HashProbe probe, int changed)
    {
        _e.LoadFence();                                                 // the sequence is read after the index
        _e.MovImm(JReg.T1, probe.Sequence);
        _e.Load(JReg.T1, JReg.T1, 0, 4, false);
        _e.LoadState(JReg.T3, JitState.ProbeSequenceOffset);
        _e.Compare(true, JReg.T1, JReg.T3);
        _e.JumpIf(JCond.Ne, changed);
    }

    /// <summary><c>bpf_redirect(ifindex, flags)</c> done in the code, as <see cref="Helpers.ControlHelpers"/>' Redirect:
    /// flags other than BPF_F_INGRESS give TC_ACT_SHOT; otherwise the target (the low 32 bits of r1) and the flags
    /// go to the state, where the VM reads the run's redirect, and r0 = TC_ACT_REDIRECT. Then on to
    /// <paramref name="done"/>: nothing falls through to the helper.</summary>
    private void InlineRedirect(int done)
    {
        int shot = _e.NewLabel();
        _e.LoadBpf(JReg.T0, 2);
        _e.TestImm(true, JReg.T0, unchecked((int)~Helpers.ControlHelpers.BpfFIngress));
        _e.JumpIf(JCond.Set, shot);
        _e.StoreState(JitState.RedirectFlagsOffset, JReg.T0);
        _e.LoadBpf(JReg.T0, 1);
        _e.ZeroExtend(JReg.T0, 32);
        _e.StoreState(JitState.RedirectIfindexOffset, JReg.T0);
        SetRegister(0, Context.TcAction.Redirect);
        _e.Jump(done);
        _e.Bind(shot);
        SetRegister(0, Context.TcAction.Shot);
        _e.Jump(done);
    }

    /// <summary>The helper's buffer [r3, +r4 as u32): its host address into <see cref="JitState.CallArg1"/> and T0 and the
    /// length into T3 when it is not empty and inside one region other than the packet (so a copy never overlaps
    /// it) — writable when <paramref name="write"/>, and not the context when read (the context is read field by
    /// field) — else a jump to <paramref name="helper"/>. <paramref name="length"/>: r4's value when the code
    /// before the call set it to a constant (not 0), else 0. Clobbers T1, T2.</summary>
    private void RegionBuffer(bool write, int helper, int length)
    {
        _e.LoadBpf(JReg.T0, 3);
        _e.Mov(JReg.T1, JReg.T0);
        _e.AluImm(JAlu.Rsh, true, JReg.T1, 32);                          // region id
        _e.CompareImm(true, JReg.T1, VirtualAddress.PacketRegion);
        _e.JumpIf(JCond.Eq, helper);
        if (!write)
        {
            _e.CompareImm(true, JReg.T1, VirtualAddress.ContextRegion);
            _e.JumpIf(JCond.Eq, helper);
        }
        RegionEntry(helper);                                              // T1 = the region
        if (write) RequireWritable(helper);
        OffsetInRegion(JReg.T0, JReg.T2, helper);                         // T0 = offset in the region, T2 = room from there
        if (length > 0) _e.MovImm(JReg.T3, length);
        else
        {
            _e.LoadBpf(JReg.T3, 4);
            _e.ZeroExtend(JReg.T3, 32);                                   // T3 = len (u32)
            _e.CompareImm(true, JReg.T3, 0);
            _e.JumpIf(JCond.Eq, helper);
        }
        _e.Compare(true, JReg.T2, JReg.T3);
        _e.JumpIf(JCond.ULt, helper);                                     // room >= len
        _e.Load(JReg.T2, JReg.T1, 16, 8, false);
        _e.Alu(JAlu.Add, true, JReg.T0, JReg.T2);
        _e.StoreState(JitState.CallArg1Offset, JReg.T0);
    }

    /// <summary>A jump to <paramref name="helper"/> unless r<paramref name="register"/> is the context of a packet
    /// run (its region has its length, so no narrow context store is pending). Clobbers T0–T2.</summary>
    private void RequirePacketContext(int helper, int register = 1)
    {
        _e.LoadBpf(JReg.T0, register);
        _e.MovImm(JReg.T1, (long)VirtualAddress.RegionBase(VirtualAddress.ContextRegion));
        _e.Compare(true, JReg.T0, JReg.T1);
        _e.JumpIf(JCond.Ne, helper);
        _e.LoadState(JReg.T1, JitState.RegionsOffset);
        _e.Load(JReg.T2, JReg.T1, VirtualAddress.ContextRegion * JitRegion.Size + 8, 8, false);
        _e.CompareImm(true, JReg.T2, 0);
        _e.JumpIf(JCond.Eq, helper);                                      // a memory run, or a narrow context store pending
    }

    /// <summary>T0: the u32 packet offset in r<paramref name="offsetRegister"/> plus <paramref name="extra"/> bytes
    /// (a register, or none) must end inside the packet, else a jump to <paramref name="helper"/>; T0 out: the
    /// offset's host address. Clobbers T1, T2.</summary>
    private void PacketRange(int offsetRegister, JReg? extra, int extraConstant, int helper)
    {
        _e.LoadBpf(JReg.T0, offsetRegister);
        _e.ZeroExtend(JReg.T0, 32);
        PacketRange(extra, extraConstant, helper);
    }

    /// <summary><see cref="PacketRange(int, JReg?, int, int)"/> for a u32 offset already in T0 (zero-extended).</summary>
    private void PacketRange(JReg? extra, int extraConstant, int helper)
    {
        _e.Lea(JReg.T2, new JMem(JReg.T0, extraConstant));                 // offset + len: no overflow in 64 bits
        if (extra is { } e) _e.Alu(JAlu.Add, true, JReg.T2, e);
        _e.LoadState(JReg.T1, JitState.RegionsOffset);
        _e.Load(JReg.T1, JReg.T1, VirtualAddress.PacketRegion * JitRegion.Size + 8, 8, false);
        _e.Compare(true, JReg.T2, JReg.T1);
        _e.JumpIf(JCond.UGt, helper);
        _e.LoadState(JReg.T1, JitState.RegionsOffset);
        _e.Load(JReg.T1, JReg.T1, VirtualAddress.PacketRegion * JitRegion.Size + 16, 8, false);
        _e.Alu(JAlu.Add, true, JReg.T0, JReg.T1);
    }

    /// <summary>LD_ABS / LD_IND (<c>load_byte/half/word</c>) done in the code when r6 is the context of a packet
    /// run and the u32 offset (imm, plus the source register's low 32 bits for IND, added in 32 bits as the
    /// interpreter does) and the load's size end inside the packet: r0 = the bytes, big-endian. Anything else —
    /// r6 not the context, a negative offset (SKF_LL_OFF / SKF_NET_OFF, or nothing), past the end, a memory run —
    /// goes to the VM's <c>LegacyLoad</c>, the interpreter's own: r0 loaded and on, or r0 = 0 and the current
    /// function returns, or the run faults. r1–r5 keep their values, as in the interpreter.</summary>
    private void LegacyPacketLoad(int i, DecodedInstruction ins)
    {
        int size = BpfVm.LegacyLoadSize(ins.Op);
        int slow = _e.NewLabel(), done = _e.NewLabel();
        RequirePacketContext(slow, 6);
        LegacyOffset(ins);
        PacketRange(null, size, slow);                                    // T0 = the bytes' host address
        _e.Load(JReg.T0, JReg.T0, 0, size, false);
        if (size > 1) _e.ByteSwap(JReg.T0, size * 8);
        _e.StoreBpf(0, JReg.T0);
        _e.Bind(done);
        _deferred.Add(() =>
        {
            _e.Bind(slow);
            LegacyOffset(ins);
            _e.StoreStateImm32(JitState.FaultPcOffset, i);
            Yield(JitState.StatusLegacyLoad, JReg.T0, 0, (long)ins.Op);
            _e.CompareImm(true, JReg.T0, JitState.LegacyLoadDone);
            _e.JumpIf(JCond.Eq, done);
            _e.CompareImm(true, JReg.T0, JitState.LegacyLoadOutside);
            _e.JumpIf(JCond.Ne, _exitFault);
            Return();                                                     // the VM set r0 = 0
        });
    }

    /// <summary>T0 = a legacy packet load's offset as a u32: imm, plus the source register for LD_IND (32-bit add).</summary>
    private void LegacyOffset(DecodedInstruction ins)
    {
        if (ins.Op >= VmOp.LdInd8)
        {
            _e.LoadBpf(JReg.T0, ins.Src);
            _e.AluImm(JAlu.Add, false, JReg.T0, (int)ins.Imm);
        }
        else _e.MovImm(JReg.T0, (uint)(int)ins.Imm);
    }

    /// <summary><c>bpf_skb_load_bytes(ctx, offset, to, len)</c> (or, <paramref name="intoPacket"/>,
    /// <c>bpf_skb_store_bytes(ctx, offset, from, len, flags)</c>) done in the code when it succeeds: r1 is the
    /// context of a packet run (its region has its length, so no narrow context store is pending), the u32 range
    /// [offset, +len) is inside the packet, len is not 0, and the buffer [r3, +len) is inside one region other than
    /// the packet (so the copy never overlaps) — writable for a load; for a store not the context, and flags 0 or
    /// BPF_F_RECOMPUTE_CSUM (nothing to recompute on a CHECKSUM_NONE frame; BPF_F_INVALIDATE_HASH changes the
    /// packet's hash, which the VM keeps): the bytes are copied and r0 = 0 (the packet keeps its place and length),
    /// then on to <paramref name="done"/>. Anything else (a range past the end, a bad buffer, a memory run) falls
    /// through to the helper call, which decides exactly as the interpreter does. A length the code before the call
    /// set to a constant (1 to <see cref="UnrolledCopyLimit"/> bytes) needs no length check and copies unrolled; a
    /// buffer it set to r10 + a constant inside the measured frame is the current frame's, which needs no region
    /// check (the same proof as a direct access through r10).</summary>
    private void InlinePacketCopy(int i, int done, bool intoPacket)
    {
        int helper = _e.NewLabel();
        RequirePacketContext(helper);
        if (intoPacket)
        {
            _e.LoadBpf(JReg.T0, 5);
            _e.TestImm(true, JReg.T0, unchecked((int)~Helpers.PacketBytesHelpers.RecomputeCsum));
            _e.JumpIf(JCond.Set, helper);
        }
        if (Known(i, 4) is (false, var n) && (uint)n is > 0 and <= UnrolledCopyLimit)
        {
            int length = (int)(uint)n;
            if (Known(i, 3) is (true, var k) && k >= -_frameBytes && k + length <= 0)
                _e.Lea(JReg.T3, JMem.InRegion(JDelta.Stack, 10, (int)k));
            else
            {
                RegionBuffer(write: !intoPacket, helper, length);
                _e.Mov(JReg.T3, JReg.T0);                                 // T3 = the buffer's host address
            }
            PacketRange(2, null, length, helper);                         // T0 = the packet range's host address
            if (intoPacket) CopyUnrolled(JReg.T3, JReg.T0, length);
            else CopyUnrolled(JReg.T0, JReg.T3, length);
        }
        else
        {
            RegionBuffer(write: !intoPacket, helper, 0);                  // CallArg1 = the buffer's host address, T3 = len
            PacketRange(2, JReg.T3, 0, helper);                           // T0 = the packet range's host address
            if (intoPacket)
            {
                _e.Mov(JReg.T1, JReg.T0);
                _e.LoadState(JReg.T0, JitState.CallArg1Offset);
            }
            else _e.LoadState(JReg.T1, JitState.CallArg1Offset);
            _e.Mov(JReg.T2, JReg.T3);                                     // T0 → T1, T2 = bytes left
            Copy(8);
            Copy(1);
        }
        SetRegister(0, 0);
        _e.Jump(done);
        _e.Bind(helper);
    }

    /// <summary><c>bpf_skb_vlan_push(ctx, proto, tci)</c> done in the code for a frame without an offloaded tag, as
    /// <see cref="Helpers.VlanHelpers"/>' Push: the tag becomes the offloaded one — the shadow's vlan_present = 1,
    /// vlan_tci = tci's low 16 bits, vlan_proto = proto's low 16 bits when they are 802.1Q or 802.1ad in network
    /// order, else 802.1Q — and r0 = 0; <see cref="JitState.VlanPushed"/> tells the VM to give the packet the same
    /// tag before it does anything else (the frame's bytes do not change). A frame that already has an offloaded
    /// tag (whose push moves it into the bytes), or r1 not the context of a packet run, goes to the helper.</summary>
    private void InlineVlanPush(int done)
    {
        int helper = _e.NewLabel(), known = _e.NewLabel();
        RequirePacketContext(helper);
        _e.LoadStateSized(JReg.T0, JitState.ContextOffset + Context.SkBuffLayout.VlanPresent, 4);
        _e.CompareImm(true, JReg.T0, 0);
        _e.JumpIf(JCond.Ne, helper);
        _e.LoadBpf(JReg.T0, 2);
        _e.ZeroExtend(JReg.T0, 16);
        _e.CompareImm(true, JReg.T0, 0x0081);                             // ETH_P_8021Q in network order
        _e.JumpIf(JCond.Eq, known);
        _e.CompareImm(true, JReg.T0, 0xa888);                             // ETH_P_8021AD
        _e.JumpIf(JCond.Eq, known);
        _e.MovImm(JReg.T0, 0x0081);
        _e.Bind(known);
        _e.StoreStateSized(JitState.ContextOffset + Context.SkBuffLayout.VlanProto, JReg.T0, 4);
        _e.LoadBpf(JReg.T0, 3);
        _e.ZeroExtend(JReg.T0, 16);
        _e.StoreStateSized(JitState.ContextOffset + Context.SkBuffLayout.VlanTci, JReg.T0, 4);
        _e.StoreStateImm32(JitState.ContextOffset + Context.SkBuffLayout.VlanPresent, 1);
        _e.StoreStateImm32(JitState.VlanPushedOffset, 1);
        SetRegister(0, 0);
        _e.Jump(done);
        _e.Bind(helper);
    }

    /// <summary><c>bpf_l3_csum_replace(ctx, offset, from, to, flags)</c> (or with <paramref name="l4"/>
    /// <c>bpf_l4_csum_replace</c>) done in the code for a 4-byte field change, as <see cref="Helpers.ChecksumHelpers"/>:
    /// r1 is the context of a packet run; flags are exactly 4 (l4: plus BPF_F_PSEUDO_HDR, which changes nothing on a
    /// CHECKSUM_NONE frame, and BPF_F_MARK_MANGLED_0); the u32 offset is at most 0xffff, even, and the 2-byte field
    /// there inside the packet. The field becomes csum_replace4's result (l4 with BPF_F_MARK_MANGLED_0: a field of 0
    /// is left alone, and a result of 0 is stored as 0xffff) and r0 = 0, then on to <paramref name="done"/>. The
    /// one's-complement sums run in 64 bits and fold to 32 and then 16, which gives csum_add's and csum_fold's
    /// values. Anything else falls through to the helper call.</summary>
    private void InlineChecksumReplace(int done, bool l4)
    {
        int helper = _e.NewLabel(), compute = _e.NewLabel(), store = _e.NewLabel(), success = _e.NewLabel();
        const ulong mangled0 = Helpers.ChecksumHelpers.MarkMangled0;
        RequirePacketContext(helper);
        _e.LoadBpf(JReg.T0, 5);
        if (l4) _e.AluImm(JAlu.And, true, JReg.T0, unchecked((int)~(Helpers.ChecksumHelpers.PseudoHeader | mangled0)));
        _e.CompareImm(true, JReg.T0, 4);
        _e.JumpIf(JCond.Ne, helper);
        _e.LoadBpf(JReg.T0, 2);
        _e.ZeroExtend(JReg.T0, 32);
        _e.CompareImm(true, JReg.T0, 0xffff);
        _e.JumpIf(JCond.UGt, helper);
        _e.TestImm(true, JReg.T0, 1);
        _e.JumpIf(JCond.Set, helper);
        PacketRange(2, null, 2, helper);                                  // T0 = the field's host address
        _e.StoreState(JitState.CallArg1Offset, JReg.T0);
        _e.Load(JReg.T1, JReg.T0, 0, 2, false);                           // T1 = the checksum as stored
        if (l4)
        {
            _e.LoadBpf(JReg.T2, 5);
            _e.TestImm(true, JReg.T2, (int)mangled0);
            _e.JumpIf(JCond.Eq, compute);
            _e.CompareImm(true, JReg.T1, 0);
            _e.JumpIf(JCond.Eq, success);                                 // mangled 0: no checksum to update
        }
        _e.Bind(compute);
        _e.AluImm(JAlu.Xor, false, JReg.T1, -1);                          // ~sum (32 bits)
        _e.LoadBpf(JReg.T2, 3);
        _e.AluImm(JAlu.Xor, false, JReg.T2, -1);                          // ~from (32 bits)
        _e.Alu(JAlu.Add, true, JReg.T1, JReg.T2);
        _e.LoadBpf(JReg.T2, 4);
        _e.ZeroExtend(JReg.T2, 32);
        _e.Alu(JAlu.Add, true, JReg.T1, JReg.T2);                         // ~sum + ~from + to < 3 * 2^32
        foreach (int bits in new[] { 32, 32, 16, 16 })
        {
            _e.Mov(JReg.T2, JReg.T1);
            _e.AluImm(JAlu.Rsh, true, JReg.T2, bits);
            _e.ZeroExtend(JReg.T1, bits);
            _e.Alu(JAlu.Add, true, JReg.T1, JReg.T2);
        }
        _e.AluImm(JAlu.Xor, true, JReg.T1, 0xffff);                       // csum_fold's complement
        if (l4)
        {
            _e.LoadBpf(JReg.T2, 5);
            _e.TestImm(true, JReg.T2, (int)mangled0);
            _e.JumpIf(JCond.Eq, store);
            _e.CompareImm(true, JReg.T1, 0);
            _e.JumpIf(JCond.Ne, store);
            _e.MovImm(JReg.T1, 0xffff);                                   // CSUM_MANGLED_0
        }
        _e.Bind(store);
        _e.LoadState(JReg.T0, JitState.CallArg1Offset);
        _e.Store(JReg.T0, 0, JReg.T1, 2);
        _e.Bind(success);
        SetRegister(0, 0);
        _e.Jump(done);
        _e.Bind(helper);
    }

    /// <summary>The longest constant length <see cref="InlinePacketCopy"/> copies unrolled.</summary>
    private const int UnrolledCopyLimit = 64;

    /// <summary>Copies <paramref name="length"/> bytes from <paramref name="from"/> to <paramref name="to"/> in the fewest
    /// 8-, 4-, 2- and 1-byte moves. Clobbers T2.</summary>
    private void CopyUnrolled(JReg from, JReg to, int length)
    {
        for (int at = 0; at < length;)
        {
            int unit = length - at >= 8 ? 8 : length - at >= 4 ? 4 : length - at >= 2 ? 2 : 1;
            _e.Load(JReg.T2, from, at, unit, false);
            _e.Store(to, at, JReg.T2, unit);
            at += unit;
        }
    }

    /// <summary>Copies from T0 to T1 in <paramref name="unit"/>-byte steps while T2 (the bytes left) holds at
    /// least one, advancing all three. Clobbers T3.</summary>
    private void Copy(int unit)
    {
        int loop = _e.NewLabel(), end = _e.NewLabel();
        _e.Bind(loop);
        _e.CompareImm(true, JReg.T2, unit);
        _e.JumpIf(JCond.ULt, end);
        _e.Load(JReg.T3, JReg.T0, 0, unit, false);
        _e.Store(JReg.T1, 0, JReg.T3, unit);
        _e.AluImm(JAlu.Add, true, JReg.T0, unit);
        _e.AluImm(JAlu.Add, true, JReg.T1, unit);
        _e.AluImm(JAlu.Sub, true, JReg.T2, unit);
        _e.Jump(loop);
        _e.Bind(end);
    }

    private void Atomic(int i, DecodedInstruction ins)
    {
        bool is64 = ins.Op >= VmOp.AtomicAdd64;
        int size = is64 ? 8 : 4;
        var kind = (JAtomic)(ins.Op - (is64 ? VmOp.AtomicAdd64 : VmOp.AtomicAdd32));
        int misaligned = FaultLabel(i, BpfFault.MisalignedAtomic);
        _e.LoadBpf(JReg.T0, ins.Dst);
        if (ins.Offset != 0) _e.AluImm(JAlu.Add, true, JReg.T0, ins.Offset);
        _e.TestImm(true, JReg.T0, size - 1);
        _e.JumpIf(JCond.Ne, misaligned);
        _e.Lea(JReg.T0, HostAddress(i, ins.Dst, ins.Offset, size, write: true));
        _e.TestImm(true, JReg.T0, size - 1);
        _e.JumpIf(JCond.Ne, misaligned);
        _e.Mov(JReg.T3, JReg.T0);
        _e.LoadBpf(JReg.T1, ins.Src);
        if (kind == JAtomic.CmpXchg) _e.LoadBpf(JReg.T0, 0);
        _e.Atomic(kind, is64);
        if (kind == JAtomic.CmpXchg) _e.StoreBpf(0, JReg.T0);
        else if (kind >= JAtomic.FetchAdd) _e.StoreBpf(ins.Src, JReg.T1);
    }

    /// <summary>A bpf-to-bpf call. It charges the budget with the callee's length: code reached through calls runs
    /// no back edge, so without it a fan-out of calls (a function calling the next a thousand times, seven deep)
    /// would run unbounded where the interpreter stops at the budget. A loop in the callee is charged at its back
    /// edges as anywhere else, so every instruction the call can run is paid for.</summary>
    private void CallLocal(int i, int target)
    {
        _e.LoadState(JReg.T0, JitState.DepthOffset);
        _e.CompareImm(true, JReg.T0, BpfVm.MaxCallFrames - 1);
        _e.JumpIf(JCond.SGe, FaultLabel(i, BpfFault.CallDepthExceeded));
        ChargeBudget(i, FunctionEnd(target) - target);
        int back = _e.NewLabel();
        SaveCallerFrame(back);
        EnterFrame();
        _e.Jump(_labels[target]);
        _e.Bind(back);
    }

    private void Return()
    {
        if (!_calls)
        {
            _e.Jump(_exitDone);                                           // no bpf-to-bpf call, no callback: always depth 0
            return;
        }
        _e.LoadState(JReg.T0, JitState.DepthOffset);
        _e.CompareImm(true, JReg.T0, 0);
        _e.JumpIf(JCond.Eq, _exitDone);
        _e.AluImm(JAlu.Sub, true, JReg.T0, 1);
        _e.StoreState(JitState.DepthOffset, JReg.T0);
        Frame(JReg.T0);
        for (int k = 0; k < 5; k++)
        {
            _e.Load(JReg.T2, JReg.T1, 8 * k, 8, false);
            _e.StoreBpf(6 + k, JReg.T2);
        }
        MoveStackRegion(BpfVm.FrameSize);
        _e.Load(JReg.T2, JReg.T1, 40, 8, false);
        _e.JumpRegister(JReg.T2);
    }

    /// <summary>T1 = the frame slot for depth T0 (T0 kept).</summary>
    private void Frame(JReg depth)
    {
        _e.Mov(JReg.T1, depth);
        _e.AluImm(JAlu.Mul, true, JReg.T1, JitFrame.Size);
        _e.StateAddress(JReg.T2, JitState.FramesOffset);
        _e.Alu(JAlu.Add, true, JReg.T1, JReg.T2);
    }

    /// <summary>Moves the start of the stack region (live frames) by <paramref name="delta"/> bytes, as the
    /// interpreter's SetStackDepth does. Clobbers T2, T3.</summary>
    private void MoveStackRegion(int delta)
    {
        int entry = VirtualAddress.StackRegion * JitRegion.Size;
        _e.LoadState(JReg.T2, JitState.RegionsOffset);
        foreach (var (field, change) in new[] { (0, delta), (8, -delta), (16, delta) })
        {
            _e.Load(JReg.T3, JReg.T2, entry + field, 8, false);
            _e.AluImm(JAlu.Add, true, JReg.T3, change);
            _e.Store(JReg.T2, entry + field, JReg.T3, 8);
        }
    }

    /// <summary>The registers any instruction names, plus r0 (the result, and what helpers return), r1 (the
    /// context at entry) and r10; with bpf-to-bpf calls also r6–r10, which the frames save and restore. The rest
    /// never change in the register file, so compiled code need not move them.</summary>
    private static int UsedRegisters(DecodedInstruction[] code)
    {
        int used = 1 << 0 | 1 << 1 | 1 << 10;
        foreach (var ins in code)
        {
            if (ins.Op is VmOp.Invalid or VmOp.WideTail) continue;
            if (ins.Op == VmOp.CallLocal) used |= 0x7C0;
            else if (ins.Op is VmOp.CallHelper or VmOp.CallReg)
                used |= ins.Op == VmOp.CallReg || ins.Imm is (int)Helpers.BpfHelperId.Loop or (int)Helpers.BpfHelperId.ForEachMapElem
                    ? 0x7FF  // r1–r5 arguments, r0 result; callback frames save r6–r10 (callx may name either helper)
                    : 0x3F;
            else if (ins.Op is >= VmOp.LdAbs8 and <= VmOp.LdInd32) used |= 1 << 6; // legacy packet loads read the context in r6
            used |= 1 << (ins.Dst & 15) | 1 << (ins.Src & 15);
        }
        return used & 0x7FF;
    }

    /// <summary>How many instructions name each eBPF register (as destination or source; a helper call names r0–r5).</summary>
    private static int[] RegisterUses(DecodedInstruction[] code)
    {
        var uses = new int[16];
        foreach (var ins in code)
        {
            if (ins.Op is VmOp.Invalid or VmOp.WideTail) continue;
            if (ins.Op == VmOp.CallHelper)
                for (int r = 0; r <= 5; r++) uses[r]++;
            uses[ins.Dst & 15]++;
            if (ins.Src != ins.Dst) uses[ins.Src & 15]++;
        }
        return uses[..11];
    }

    private static bool SimpleAlu(VmOp op, out JAlu alu, out bool is64, out bool imm)
    {
        (alu, is64, imm) = op switch
        {
            VmOp.Add64Imm => (JAlu.Add, true, true), VmOp.Add64Reg => (JAlu.Add, true, false),
            VmOp.Sub64Imm => (JAlu.Sub, true, true), VmOp.Sub64Reg => (JAlu.Sub, true, false),
            VmOp.Mul64Imm => (JAlu.Mul, true, true), VmOp.Mul64Reg => (JAlu.Mul, true, false),
            VmOp.Or64Imm => (JAlu.Or, true, true), VmOp.Or64Reg => (JAlu.Or, true, false),
            VmOp.And64Imm => (JAlu.And, true, true), VmOp.And64Reg => (JAlu.And, true, false),
            VmOp.Xor64Imm => (JAlu.Xor, true, true), VmOp.Xor64Reg => (JAlu.Xor, true, false),
            VmOp.Lsh64Imm => (JAlu.Lsh, true, true), VmOp.Lsh64Reg => (JAlu.Lsh, true, false),
            VmOp.Rsh64Imm => (JAlu.Rsh, true, true), VmOp.Rsh64Reg => (JAlu.Rsh, true, false),
            VmOp.Arsh64Imm => (JAlu.Arsh, true, true), VmOp.Arsh64Reg => (JAlu.Arsh, true, false),
            VmOp.Add32Imm => (JAlu.Add, false, true), VmOp.Add32Reg => (JAlu.Add, false, false),
            VmOp.Sub32Imm => (JAlu.Sub, false, true), VmOp.Sub32Reg => (JAlu.Sub, false, false),
            VmOp.Mul32Imm => (JAlu.Mul, false, true), VmOp.Mul32Reg => (JAlu.Mul, false, false),
            VmOp.Or32Imm => (JAlu.Or, false, true), VmOp.Or32Reg => (JAlu.Or, false, false),
            VmOp.And32Imm => (JAlu.And, false, true), VmOp.And32Reg => (JAlu.And, false, false),
            VmOp.Xor32Imm => (JAlu.Xor, false, true), VmOp.Xor32Reg => (JAlu.Xor, false, false),
            VmOp.Lsh32Imm => (JAlu.Lsh, false, true), VmOp.Lsh32Reg => (JAlu.Lsh, false, false),
            VmOp.Rsh32Imm => (JAlu.Rsh, false, true), VmOp.Rsh32Reg => (JAlu.Rsh, false, false),
            VmOp.Arsh32Imm => (JAlu.Arsh, false, true), VmOp.Arsh32Reg => (JAlu.Arsh, false, false),
            _ => ((JAlu)255, false, false),
        };
        return alu != (JAlu)255;
    }

    private static bool Division(VmOp op, out bool is64, out bool signed, out bool modulo, out bool imm)
    {
        int code = op switch
        {
            VmOp.Div64Imm => 0b1001, VmOp.Div64Reg => 0b1000, VmOp.SDiv64Imm => 0b1101, VmOp.SDiv64Reg => 0b1100,
            VmOp.Mod64Imm => 0b1011, VmOp.Mod64Reg => 0b1010, VmOp.SMod64Imm => 0b1111, VmOp.SMod64Reg => 0b1110,
            VmOp.Div32Imm => 0b0001, VmOp.Div32Reg => 0b0000, VmOp.SDiv32Imm => 0b0101, VmOp.SDiv32Reg => 0b0100,
            VmOp.Mod32Imm => 0b0011, VmOp.Mod32Reg => 0b0010, VmOp.SMod32Imm => 0b0111, VmOp.SMod32Reg => 0b0110,
            _ => -1,
        };
        is64 = (code & 8) != 0;
        signed = (code & 4) != 0;
        modulo = (code & 2) != 0;
        imm = (code & 1) != 0;
        return code >= 0;
    }

    private static bool Branch(VmOp op, out JCond cond, out bool is64, out bool imm)
    {
        cond = default;
        is64 = op <= VmOp.Jsle64Reg;
        imm = false;
        if (op is < VmOp.Jeq64Imm or > VmOp.Jsle32Reg) return false;
        int k = is64 ? op - VmOp.Jeq64Imm : op - VmOp.Jeq32Imm;
        imm = k % 2 == 0;
        cond = (k / 2) switch
        {
            0 => JCond.Eq, 1 => JCond.UGt, 2 => JCond.UGe, 3 => JCond.Set, 4 => JCond.Ne, 5 => JCond.SGt,
            6 => JCond.SGe, 7 => JCond.ULt, 8 => JCond.ULe, 9 => JCond.SLt, _ => JCond.SLe,
        };
        return true;
    }
}
