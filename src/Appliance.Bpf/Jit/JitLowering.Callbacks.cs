using Appliance.Bpf.Isa;
using Appliance.Bpf.Vm;

namespace Appliance.Bpf.Jit;

/// <summary>Callbacks in compiled code: <c>bpf_loop</c> becomes a loop of bpf-to-bpf calls of the callback, as the
/// kernel's verifier inlines it; <c>bpf_for_each_map_elem</c> a loop of such calls around the VM's helper, which hands
/// out the elements. Both with the interpreter's results and limits (see <see cref="BpfVm"/>'s callback driver).</summary>
internal sealed partial class JitLowering
{
    /// <summary>The most callback compares the code may hold: each bpf_loop site compares r2 with every callback twice
    /// (<see cref="InlineLoop"/>, <see cref="StoreCallback"/>), each bpf_for_each_map_elem once, each callx three times.</summary>
    private const long MaxCallbackCompares = 1 << 16;

    /// <summary>Refuses (the interpreter runs the program) code whose callback dispatch would grow as call sites ×
    /// callbacks past <see cref="MaxCallbackCompares"/>: 10,000 of each in a 700 KB object made gigabytes of code.</summary>
    private static void CheckCallbackDispatch(DecodedInstruction[] code, int callbacks)
    {
        if (callbacks == 0) return;
        long scans = 0;
        foreach (var ins in code)
            scans += ins.Op switch
            {
                VmOp.CallHelper when ins.Imm == (int)Helpers.BpfHelperId.Loop => 2,
                VmOp.CallHelper when ins.Imm == (int)Helpers.BpfHelperId.ForEachMapElem => 1,
                VmOp.CallReg => 3,
                _ => 0,
            };
        if (scans * callbacks > MaxCallbackCompares)
            throw new NotSupportedException($"{callbacks} callbacks and {scans} callback dispatches (bpf_loop, bpf_for_each_map_elem, callx) would take {scans * callbacks} compares, more than {MaxCallbackCompares}");
    }

    /// <summary><c>bpf_loop(nr_loops, callback_fn, callback_ctx, flags)</c>, then on to <paramref name="done"/>. In the
    /// interpreter's order: r2 must be the address of one of the program's callbacks (else the run faults with
    /// HelperMisuse at the call); flags other than 0 give -EINVAL, more than 1 &lt;&lt; 23 loops (the u32 in r1) -E2BIG,
    /// none r0 = 0. Otherwise the callback is called as a bpf-to-bpf call (the call depth limit and the frame's
    /// r6–r10 and stack region as for <c>call local</c>) with r1 = the index and r2 = ctx, while it returns 0 and
    /// loops are left; r0 = the number of calls, the one that returned 1 included. A return above 1 faults the run
    /// at the callback's exit, as the interpreter does. The loop state lives in the state by the caller's depth
    /// (<see cref="JitLoop"/>), so a callback may run bpf_loop itself. Every call charges the budget with the
    /// callback function's length (see <see cref="CallCallback"/>), so a huge nr_loops ends the run as in the
    /// interpreter (BudgetExhausted, here at the call instruction); the callback's own loops charge as any loop.</summary>
    private void InlineLoop(int i, int done)
    {
        int found = _e.NewLabel(), enter = _e.NewLabel(), back = _e.NewLabel(), finish = _e.NewLabel();
        int invalid = _e.NewLabel(), tooBig = _e.NewLabel(), none = _e.NewLabel(), badVerdict = _e.NewLabel();
        int misuse = FaultLabel(i, BpfFault.HelperMisuse);

        // r2 names one of the program's callbacks (the VM's LoadedProgram.IsCallback).
        _e.LoadBpf(JReg.T0, 2);
        foreach (int entry in _callbacks)
        {
            _e.MovImm(JReg.T1, CallbackAddress(entry));
            _e.Compare(true, JReg.T0, JReg.T1);
            _e.JumpIf(JCond.Eq, found);
        }
        _e.Jump(misuse);
        _e.Bind(found);
        _e.LoadBpf(JReg.T0, 4);
        _e.CompareImm(true, JReg.T0, 0);
        _e.JumpIf(JCond.Ne, invalid);
        _e.LoadBpf(JReg.T0, 1);
        _e.ZeroExtend(JReg.T0, 32);                                       // T0 = nr_loops
        _e.CompareImm(true, JReg.T0, (int)BpfVm.MaxLoops);
        _e.JumpIf(JCond.UGt, tooBig);
        _e.CompareImm(true, JReg.T0, 0);
        _e.JumpIf(JCond.Eq, none);
        _e.LoadState(JReg.T1, JitState.DepthOffset);
        _e.CompareImm(true, JReg.T1, BpfVm.MaxCallFrames - 1);
        _e.JumpIf(JCond.SGe, FaultLabel(i, BpfFault.CallDepthExceeded));
        LoopSlot(JReg.T1);                                                // T1 = this depth's loop
        _e.Store(JReg.T1, JitLoop.CountOffset, JReg.T0, 8);
        StoreCallback();
        _e.LoadBpf(JReg.T2, 3);
        _e.Store(JReg.T1, JitLoop.ContextOffset, JReg.T2, 8);
        _e.MovImm(JReg.T2, 0);
        _e.Store(JReg.T1, JitLoop.IndexOffset, JReg.T2, 8);
        AddToCallbackLevel(1);
        SaveCallerFrame(back);

        // Each call: r1 = index, r2 = ctx, then into the callback's frame.
        _e.Bind(enter);
        LoopSlot(JReg.T1);
        _e.Load(JReg.T0, JReg.T1, JitLoop.IndexOffset, 8, false);
        _e.StoreBpf(1, JReg.T0);
        _e.Load(JReg.T0, JReg.T1, JitLoop.ContextOffset, 8, false);
        _e.StoreBpf(2, JReg.T0);
        CallCallback(i);

        // Back from the callback (the caller's r6–r10, depth and stack region restored): r0 is its verdict.
        _e.Bind(back);
        _e.LoadBpf(JReg.T0, 0);
        _e.CompareImm(true, JReg.T0, 1);
        _e.JumpIf(JCond.UGt, badVerdict);
        LoopSlot(JReg.T1);
        _e.Load(JReg.T2, JReg.T1, JitLoop.IndexOffset, 8, false);
        _e.AluImm(JAlu.Add, true, JReg.T2, 1);
        _e.Store(JReg.T1, JitLoop.IndexOffset, JReg.T2, 8);                // T2 = the calls made
        _e.CompareImm(true, JReg.T0, 1);
        _e.JumpIf(JCond.Eq, finish);
        _e.Load(JReg.T3, JReg.T1, JitLoop.CountOffset, 8, false);
        _e.Compare(true, JReg.T2, JReg.T3);
        _e.JumpIf(JCond.ULt, enter);
        _e.Bind(finish);
        _e.StoreBpf(0, JReg.T2);
        AddToCallbackLevel(-1);
        _e.Jump(done);

        Result(invalid, -Errno.EINVAL);
        Result(tooBig, -Errno.E2BIG);
        Result(none, 0);
        _deferred.Add(() =>
        {
            // The callback's exit stored its own instruction as the fault's place.
            _e.Bind(badVerdict);
            _e.StoreStateImm32(JitState.FaultKindOffset, (int)BpfFault.HelperMisuse);
            _e.Jump(_exitFault);
        });

        void Result(int label, int value)
        {
            _e.Bind(label);
            SetRegister(0, value);
            _e.Jump(done);
        }
    }

    /// <summary><c>bpf_for_each_map_elem(map, callback_fn, callback_ctx, flags)</c>, then on to <paramref name="done"/>:
    /// the VM's helper (the interpreter's own, <see cref="BpfVm"/>'s StartForEach) checks the arguments, takes a hash
    /// map's keys and hands out the first element as the key and value regions with r1–r4 = map, key, value, ctx; the
    /// code calls the callback as <see cref="InlineLoop"/> does (frame, depth limit, budget charge); at each return a
    /// runtime call (<see cref="JitState.StatusCallbackReturn"/>, the VM's ResumeCallback) checks the verdict and moves
    /// to the next element or ends the helper with r0 = the calls. So map semantics (per-CPU values, elements deleted
    /// meanwhile, read-only maps) are the interpreter's, one runtime call per element.</summary>
    private void ForEachMapElem(int i, int done)
    {
        int enter = _e.NewLabel(), back = _e.NewLabel();
        LoopSlot(JReg.T1);
        StoreCallback();                                                  // r2 is still the callback here
        _e.StoreStateImm32(JitState.FaultPcOffset, i);
        Yield(JitState.StatusHelper, null, (int)Helpers.BpfHelperId.ForEachMapElem, 0);
        _e.CompareImm(false, JReg.T0, JitState.HelperContinue);
        _e.JumpIf(JCond.Eq, done);                                        // an error, or no element: r0 is set
        _e.CompareImm(false, JReg.T0, JitState.HelperCallback);
        _e.JumpIf(JCond.Ne, _helperOutcome);
        _e.LoadState(JReg.T1, JitState.DepthOffset);
        _e.CompareImm(true, JReg.T1, BpfVm.MaxCallFrames - 1);
        _e.JumpIf(JCond.SGe, FaultLabel(i, BpfFault.CallDepthExceeded));
        SaveCallerFrame(back);
        _e.Bind(enter);
        LoopSlot(JReg.T1);
        CallCallback(i);
        _e.Bind(back);
        // The callback's exit stored its own instruction as the fault's place for a bad verdict.
        Yield(JitState.StatusCallbackReturn, null, 0, 0);
        _e.CompareImm(false, JReg.T0, JitState.CallbackAgain);
        _e.JumpIf(JCond.Eq, enter);
        _e.CompareImm(false, JReg.T0, JitState.CallbackDone);
        _e.JumpIf(JCond.Ne, _exitFault);
    }

    /// <summary><c>callx</c> of a register holding bpf_loop's or bpf_for_each_map_elem's id (exactly, as the VM's helper
    /// call by register requires): the same code as their <c>call</c>, then on to <paramref name="done"/>; any other
    /// value falls through to the helper call.</summary>
    private void CallRegCallbacks(int i, int register, int done)
    {
        int notLoop = _e.NewLabel(), other = _e.NewLabel();
        _e.LoadBpf(JReg.T0, register);
        _e.CompareImm(true, JReg.T0, (int)Helpers.BpfHelperId.Loop);
        _e.JumpIf(JCond.Ne, notLoop);
        InlineLoop(i, done);
        _e.Bind(notLoop);
        _e.LoadBpf(JReg.T0, register);
        _e.CompareImm(true, JReg.T0, (int)Helpers.BpfHelperId.ForEachMapElem);
        _e.JumpIf(JCond.Ne, other);
        ForEachMapElem(i, done);
        _e.Jump(done);
        _e.Bind(other);
    }

    /// <summary>T1 = the current depth's loop: its callback's code and charge from r2 (nothing when r2 names no
    /// callback). Clobbers T0, T2, T3.</summary>
    private void StoreCallback()
    {
        int stored = _e.NewLabel();
        _e.LoadBpf(JReg.T0, 2);
        foreach (int entry in _callbacks)
        {
            int next = _e.NewLabel();
            _e.MovImm(JReg.T2, CallbackAddress(entry));
            _e.Compare(true, JReg.T0, JReg.T2);
            _e.JumpIf(JCond.Ne, next);
            _e.LabelAddress(JReg.T3, _labels[entry]);
            _e.Store(JReg.T1, JitLoop.EntryOffset, JReg.T3, 8);
            _e.MovImm(JReg.T3, FunctionEnd(entry) - entry);
            _e.Store(JReg.T1, JitLoop.ChargeOffset, JReg.T3, 8);
            _e.Jump(stored);
            _e.Bind(next);
        }
        _e.Bind(stored);
    }

    /// <summary>Saves the caller's r6–r10 in the frame slot of the current depth with <paramref name="back"/> as the
    /// return address (call local; a callback's each return restores them, and the depth and stack region, and comes
    /// back there). Leaves T0 = the depth; clobbers T1, T2.</summary>
    private void SaveCallerFrame(int back)
    {
        _e.LoadState(JReg.T0, JitState.DepthOffset);
        Frame(JReg.T0);
        for (int k = 0; k < 5; k++)
        {
            _e.LoadBpf(JReg.T2, 6 + k);
            _e.Store(JReg.T1, 8 * k, JReg.T2, 8);
        }
        _e.LabelAddress(JReg.T2, back);
        _e.Store(JReg.T1, 40, JReg.T2, 8);
    }

    /// <summary>T1 = the caller's loop (the saved frame in place): charges the budget with the callback's length —
    /// each call is a back edge of the loop, and a back edge charges the length of the loop it closes — and enters the
    /// callback's frame (depth, r10, stack region) at its code.</summary>
    private void CallCallback(int i)
    {
        _e.Load(JReg.T3, JReg.T1, JitLoop.ChargeOffset, 8, false);
        _e.LoadState(JReg.T2, JitState.BudgetOffset);
        _e.Alu(JAlu.Sub, true, JReg.T2, JReg.T3);
        _e.StoreState(JitState.BudgetOffset, JReg.T2);
        _e.CompareImm(true, JReg.T2, 0);
        _e.JumpIf(JCond.SLt, FaultLabel(i, BpfFault.BudgetExhausted));
        EnterFrame();
        _e.Load(JReg.T2, JReg.T1, JitLoop.EntryOffset, 8, false);
        _e.JumpRegister(JReg.T2);
    }

    /// <summary>Enters the next frame as the interpreter's PushFrame: depth + 1, r10 one frame lower, the stack region
    /// down with it. Clobbers T0, T2, T3.</summary>
    private void EnterFrame()
    {
        _e.LoadState(JReg.T0, JitState.DepthOffset);
        _e.AluImm(JAlu.Add, true, JReg.T0, 1);
        _e.StoreState(JitState.DepthOffset, JReg.T0);
        _e.LoadBpf(JReg.T2, 10);
        _e.AluImm(JAlu.Sub, true, JReg.T2, BpfVm.FrameSize);
        _e.StoreBpf(10, JReg.T2);
        MoveStackRegion(-BpfVm.FrameSize);
    }

    private static long CallbackAddress(int entry) => (long)(VirtualAddress.FunctionBase | (uint)entry);

    /// <summary><paramref name="d"/> = the address of the current call depth's loop. Clobbers T2.</summary>
    private void LoopSlot(JReg d)
    {
        _e.LoadState(d, JitState.DepthOffset);
        _e.AluImm(JAlu.Mul, true, d, JitLoop.Size);
        _e.StateAddress(JReg.T2, JitState.LoopsOffset);
        _e.Alu(JAlu.Add, true, d, JReg.T2);
    }

    /// <summary>Clobbers T2.</summary>
    private void AddToCallbackLevel(int delta)
    {
        _e.LoadState(JReg.T2, JitState.CallbackLevelOffset);
        _e.AluImm(JAlu.Add, true, JReg.T2, delta);
        _e.StoreState(JitState.CallbackLevelOffset, JReg.T2);
    }

    /// <summary>The first instruction after the function that starts at <paramref name="entry"/> (the sentinel at the
    /// latest): functions start at the program's entry, call local targets and callbacks.</summary>
    private int FunctionEnd(int entry)
    {
        _functionStarts ??= [.. _code.Select(ins => ins.Op == VmOp.CallLocal ? ins.Offset : -1).Concat(_callbacks).Append(0)
            .Where(e => e >= 0).Append(_code.Length - 1).Distinct().Order()];
        int k = Array.BinarySearch(_functionStarts, entry + 1);
        return _functionStarts[k >= 0 ? k : ~k];
    }

    private int[]? _functionStarts;

    /// <summary>True when instruction <paramref name="i"/> belongs to one of the program's callbacks.</summary>
    private bool IsCallbackCode(int i)
    {
        foreach (int e in _callbacks)
            if (i >= e && i < FunctionEnd(e)) return true;
        return false;
    }
}
