namespace Appliance.Bpf.Verifier;

/// <summary>A forward may-analysis: the set of registers written on at least one path to each instruction.
/// Function entries start with the entry registers (main: the caller's set; sub-programs: r1–r5, the
/// arguments; callbacks: the arguments their helper passes, so bpf_loop's callback may not read r3) plus r10; helper
/// calls and legacy packet loads (LD_ABS/IND) define r0 and leave r1–r5 undefined, as in the kernel. A bpf-to-bpf
/// call leaves r1–r5 undefined and r0 as the callee left it: defined when some path of the callee writes r0 before an
/// exit, else (a function returning void) undefined — the kernel hands the callee's r0 back to the caller, so a caller
/// reading it after a void function is refused ("R0 !read_ok"), and so it is here. After the fixpoint every
/// reachable instruction is checked for reads of registers that no path has written; the exit of a sub-program does
/// not read r0 (a function returning void leaves it unset, which the kernel accepts), while the main program's and a
/// callback's exits do. A register written on only some paths is accepted: the kernel prunes infeasible paths that a
/// path-insensitive analysis cannot, so rejecting it could refuse code the kernel loads; at run time such a read sees
/// 0 or an older value of the program's own, which is harmless.</summary>
internal static class RegisterInitAnalysis
{
    /// <param name="callbacks">Callback entries and the argument registers their helper passes (see <see cref="CallbackAnalysis"/>).</param>
    /// <param name="live">Instructions some run can reach (<see cref="DeadBranchAnalysis"/>): only their reads are checked.</param>
    public static bool[] Run(InstructionFacts[] facts, int[] functionOf, int entryRegisters, IReadOnlyDictionary<int, int> callbacks, bool[] live, Action<int, string> fail)
    {
        int n = facts.Length;
        int[] state = new int[n];
        bool[] reachable = new bool[n];
        var work = new Stack<int>();
        void Seed(int index, int regs)
        {
            if (!reachable[index]) { reachable[index] = true; state[index] = regs; work.Push(index); }
            else if ((state[index] | regs) != state[index]) { state[index] |= regs; work.Push(index); }
        }

        Seed(0, entryRegisters | (1 << 10));
        // The calls of each sub-program (by its entry), revisited when it turns out to return a value: found once here,
        // not by a scan of the program per sub-program, which made a chain of many small functions quadratic.
        var callsOf = new Dictionary<int, List<int>>();
        for (int i = 0; i < n; i++)
        {
            if (facts[i].Op != Isa.VmOp.CallLocal) continue;
            Seed(facts[i].Target, InstructionFacts.CallerSaved | (1 << 10));
            if (!callsOf.TryGetValue(facts[i].Target, out var calls)) callsOf[facts[i].Target] = calls = [];
            calls.Add(i);
        }
        foreach (var (entry, arguments) in callbacks) Seed(entry, arguments | (1 << 10));

        // Sub-programs some path of which writes r0 before an exit; a call of one defines r0 for its caller.
        bool[] returnsValue = new bool[n];
        while (work.Count > 0)
        {
            int i = work.Pop();
            var f = facts[i];
            int after = state[i];
            if (f.Op == Isa.VmOp.Exit && (after & 1) != 0 && functionOf[i] != 0 && !returnsValue[functionOf[i]])
            {
                returnsValue[functionOf[i]] = true;
                if (callsOf.TryGetValue(functionOf[i], out var calls))
                    foreach (int c in calls)
                        if (reachable[c]) work.Push(c);
            }
            if (f.IsCall) after &= ~InstructionFacts.CallerSaved;
            if (f.Op == Isa.VmOp.CallLocal) after = returnsValue[f.Target] ? after | 1 : after & ~1;
            else after |= f.IsLegacyPacketLoad ? 1 : f.Writes;
            if (f.IsLegacyPacketLoad) after &= ~InstructionFacts.CallerSaved;
            int count = f.SuccessorCount(i, out int a, out int b);
            if (count >= 1) Seed(a, after);
            if (count == 2) Seed(b, after);
        }

        for (int i = 0; i < n; i++)
        {
            if (!reachable[i] || !live[i]) continue;
            int reads = facts[i].Reads;
            if (facts[i].Op == Isa.VmOp.Exit && functionOf[i] != 0 && !callbacks.ContainsKey(functionOf[i])) reads &= ~1;
            int missing = reads & ~state[i];
            if (missing == 0) continue;
            int reg = System.Numerics.BitOperations.TrailingZeroCount(missing);
            fail(i, $"r{reg} is read but no path to here writes it" + (reg == 0 ? VoidCallBefore(facts, functionOf, returnsValue, reachable, i) : ""));
        }
        return reachable;
    }

    /// <summary>", the result of the static function called at instruction N, which returns no value …" when a call of a
    /// function returning void comes before <paramref name="index"/> in its function, else "".</summary>
    private static string VoidCallBefore(InstructionFacts[] facts, int[] functionOf, bool[] returnsValue, bool[] reachable, int index)
    {
        for (int c = index - 1; c >= 0 && functionOf[c] == functionOf[index]; c--)
            if (reachable[c] && facts[c].Op == Isa.VmOp.CallLocal && !returnsValue[facts[c].Target])
                return $": r0 is the result of the static function called at instruction {c}, which returns no value on any path " +
                    "(a void function: the kernel refuses this read too, \"R0 !read_ok\")";
        return "";
    }
}
