using Appliance.Bpf.Context;
using Appliance.Bpf.Isa;

namespace Appliance.Bpf.Verifier;

/// <summary>Applies the kernel's <c>__sk_buff</c> access rules (<see cref="SkBuffLayout.CheckAccess"/>) at load,
/// as the kernel verifier does: a forward must-analysis finds the registers that hold the context pointer on
/// every path (r1 at the program's entry and its plain copies; any other write, and a call for r0–r5, ends
/// that), and every load, store or atomic through such a register is checked with its constant offset. The
/// kernel refuses atomics on the context and arithmetic on the context pointer before a dereference; a
/// pointer derived by arithmetic is simply no longer tracked here (the VM's run-time checks still apply).
/// Sub-programs start with nothing known, so accesses there are left to the run-time checks. Like the kernel's
/// convert_ctx_access, loads of fields narrower than 4 bytes get their offset rewritten
/// (<see cref="SkBuffLayout.LoadOffset"/>); the result lists those instructions and their new offsets.</summary>
internal static class ContextAccessAnalysis
{
    private const int Unvisited = -1;

    public static Dictionary<int, short> Run(InstructionFacts[] facts, bool[] reachable, Action<int, string> fail)
    {
        var rewrites = new Dictionary<int, short>();
        int n = facts.Length;
        int[] state = new int[n];
        Array.Fill(state, Unvisited);
        var work = new Stack<int>();
        void Seed(int index, int regs)
        {
            int merged = state[index] == Unvisited ? regs : state[index] & regs;
            if (merged == state[index]) return;
            state[index] = merged;
            work.Push(index);
        }

        Seed(0, 1 << 1);
        for (int i = 0; i < n; i++)
            if (facts[i].EntersFunction) Seed(facts[i].Target, 0);

        while (work.Count > 0)
        {
            int i = work.Pop();
            var f = facts[i];
            int after = Transfer(f, state[i]);
            int count = f.SuccessorCount(i, out int a, out int b);
            if (count >= 1) Seed(a, after);
            if (count == 2) Seed(b, after);
        }

        for (int i = 0; i < n; i++)
        {
            if (!reachable[i] || state[i] == Unvisited || state[i] == 0) continue;
            var f = facts[i];
            var ins = f.Instruction;
            int size = BpfOpcodes.SizeBytes(ins.Opcode);
            string? reason = null;
            if (f.Op is >= VmOp.Ldx8 and <= VmOp.Ldxs32 && (state[i] & (1 << ins.Src)) != 0)
            {
                reason = SkBuffLayout.CheckAccess(ins.Offset, size, write: false);
                if (reason is null && SkBuffLayout.LoadOffset(ins.Offset, size) is var load && load != ins.Offset)
                    rewrites[i] = (short)load;
            }
            else if (f.Op is >= VmOp.St8 and <= VmOp.Stx64 && (state[i] & (1 << ins.Dst)) != 0)
                reason = SkBuffLayout.CheckAccess(ins.Offset, size, write: true);
            else if (f.Op is >= VmOp.AtomicAdd32 and <= VmOp.AtomicCmpXchg64 && (state[i] & (1 << ins.Dst)) != 0)
                reason = "is an atomic operation, which the kernel never allows on the context";
            if (reason is not null)
                fail(i, $"__sk_buff access at offset {ins.Offset} ({size} bytes) {reason}");
        }
        return rewrites;
    }

    private static int Transfer(InstructionFacts f, int regs)
    {
        var ins = f.Instruction;
        if (f.Op == VmOp.Mov64Reg)
            return (regs & (1 << ins.Src)) != 0 ? regs | (1 << ins.Dst) : regs & ~(1 << ins.Dst);
        if (f.IsCall) regs &= ~(InstructionFacts.CallerSaved | 1);
        return regs & ~f.Writes;
    }
}
