using Appliance.Bpf.Helpers;
using Appliance.Bpf.Isa;

namespace Appliance.Bpf.Verifier;

/// <summary>Callbacks (functions whose address an lddw src 4 takes) as the kernel checks them for
/// bpf_loop and bpf_for_each_map_elem: the address may only reach such a helper's callback_fn (r2); the
/// callback's entry registers are the arguments that helper passes (bpf_loop: r1 = index, r2 = ctx;
/// for_each_map_elem: r1 = map, r2 = key, r3 = value, r4 = ctx), so reading another is "!read_ok" as in the
/// kernel (a function address that reaches no such helper on the straight line gets for_each_map_elem's,
/// the widest); and a callback returns 0 (continue) or 1 (stop): a constant outside [0, 1] at its exit is refused
/// at load. A value the analysis cannot see is checked when the callback returns (the VM faults the run).</summary>
internal static class CallbackAnalysis
{
    private const int LoopArguments = 0b110, ForEachArguments = 0b1_1110;

    /// <summary>Callback entry → the argument registers (bit n = rN) every helper it is passed to provides.</summary>
    public static Dictionary<int, int> FindCallbacks(InstructionFacts[] facts, Action<int, string> fail)
    {
        var callbacks = new Dictionary<int, int>();
        for (int i = 0; i < facts.Length; i++)
        {
            if (!facts[i].IsFunctionAddress) continue;
            int arguments = ConsumerArguments(facts, i, fail);
            int entry = facts[i].Target;
            if (entry == 0) fail(i, "the program's entry cannot be a callback");
            callbacks[entry] = callbacks.TryGetValue(entry, out int known) ? known & arguments : arguments;
        }
        return callbacks;
    }

    /// <summary>Follows the function address from its lddw along straight-line code (copies included) to the
    /// call that consumes it. Clang loads it right before the call; where control flow intervenes first, the
    /// widest signature (for_each_map_elem's) applies.</summary>
    private static int ConsumerArguments(InstructionFacts[] facts, int load, Action<int, string> fail)
    {
        int holders = 1 << facts[load].Instruction.Dst;
        for (int i = load + 2; i < facts.Length && holders != 0; i++)
        {
            var f = facts[i];
            if (f.IsCall)
            {
                if (f.Op == VmOp.CallHelper && (holders & 1 << 2) != 0)
                {
                    switch ((BpfHelperId)f.Instruction.Imm)
                    {
                        case BpfHelperId.Loop: return LoopArguments;
                        case BpfHelperId.ForEachMapElem: return ForEachArguments;
                    }
                }
                holders &= ~(InstructionFacts.CallerSaved | 1); // a copy in r6-r9 lives on
                continue;
            }
            if (f.Op is >= VmOp.Stx8 and <= VmOp.AtomicCmpXchg64 && (holders & (1 << f.Instruction.Src)) != 0)
                fail(i, "a callback's address may not be stored to memory");
            if (f.Op == VmOp.Exit && (holders & 1) != 0) fail(i, "a callback's address may not be returned");
            if (f.Op is VmOp.Mov64Reg && (holders & (1 << f.Instruction.Src)) != 0)
            {
                holders |= 1 << f.Instruction.Dst;
                continue;
            }
            holders &= ~f.Writes;
            if (f.Op is VmOp.Ja or VmOp.Exit || f.IsConditionalJump) return ForEachArguments;
            if (f.IsWideTail) continue;
        }
        return ForEachArguments;
    }

    /// <summary>Refuses a callback whose exit returns a constant outside [0, 1], as the kernel's
    /// "At callback return the register R0 has … should have been in [0, 1]".</summary>
    public static void CheckReturns(InstructionFacts[] facts, int[] functionOf, bool[] reachable, IReadOnlyDictionary<int, int> callbacks, Action<int, string> fail)
    {
        if (callbacks.Count == 0) return;
        var leaders = new bool[facts.Length];
        foreach (var f in facts)
            if (f.Target >= 0) leaders[f.Target] = true;
        for (int i = 0; i < facts.Length; i++)
        {
            if (facts[i].Op != VmOp.Exit || !reachable[i] || !callbacks.ContainsKey(functionOf[i])) continue;
            for (int j = i - 1; j >= functionOf[i] && !leaders[j + 1]; j--)
            {
                var f = facts[j];
                if (f.IsWideTail) continue;
                if ((f.Writes & 1) == 0) continue;
                if (f.Op is VmOp.Mov64Imm or VmOp.Mov32Imm && (ulong)(f.Op == VmOp.Mov32Imm ? (uint)f.Instruction.Imm : (ulong)(long)f.Instruction.Imm) > 1)
                    fail(i, $"At callback return the register R0 has value {f.Instruction.Imm}, which should have been in [0, 1]");
                break;
            }
        }
    }
}
