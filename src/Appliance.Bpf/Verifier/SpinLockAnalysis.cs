using Appliance.Bpf.Helpers;
using Appliance.Bpf.Isa;

namespace Appliance.Bpf.Verifier;

/// <summary>The kernel's bpf_spin_lock rules where every path agrees: a forward analysis of "lock held" per
/// instruction (a set of {free, held}, merged at joins) refuses taking a second lock, unlocking a lock not
/// taken, calling any other helper while holding it, and leaving the program while holding it — each only when
/// it is so on every path to the instruction, so code the kernel accepts by correlating branches still loads.
/// Function entries start free. The VM enforces the same rules at run time for the paths this cannot decide.</summary>
internal static class SpinLockAnalysis
{
    private const int Free = 1, Held = 2;

    public static void Run(InstructionFacts[] facts, int[] functionOf, Action<int, string> fail)
    {
        bool usesLocks = false;
        foreach (var f in facts)
            if (f.Op == VmOp.CallHelper && (BpfHelperId)f.Instruction.Imm is BpfHelperId.SpinLock or BpfHelperId.SpinUnlock) usesLocks = true;
        if (!usesLocks) return;

        int n = facts.Length;
        var state = new int[n];
        var work = new Stack<int>();
        void Seed(int index, int s)
        {
            if ((state[index] | s) == state[index]) return;
            state[index] |= s;
            work.Push(index);
        }
        Seed(0, Free);
        foreach (var f in facts)
            if (f.EntersFunction) Seed(f.Target, Free);

        while (work.Count > 0)
        {
            int i = work.Pop();
            var f = facts[i];
            int s = state[i], after = s;
            if (f.Op == VmOp.CallHelper)
            {
                switch ((BpfHelperId)f.Instruction.Imm)
                {
                    case BpfHelperId.SpinLock:
                        if (s == Held) fail(i, "Locking two bpf_spin_locks are not allowed");
                        after = Held;
                        break;
                    case BpfHelperId.SpinUnlock:
                        if (s == Free) fail(i, "bpf_spin_unlock without taking a lock");
                        after = Free;
                        break;
                    default:
                        if (s == Held) fail(i, "function calls are not allowed while holding a lock");
                        break;
                }
            }
            else if (f.Op == VmOp.CallReg && s == Held)
            {
                fail(i, "function calls are not allowed while holding a lock");
            }
            else if (f.Op == VmOp.Exit && s == Held && functionOf[i] == 0)
            {
                fail(i, "bpf_spin_unlock is missing");
            }
            int count = f.SuccessorCount(i, out int a, out int b);
            if (count >= 1) Seed(a, after);
            if (count == 2) Seed(b, after);
        }
    }
}
