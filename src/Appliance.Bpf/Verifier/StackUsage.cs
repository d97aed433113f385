using Appliance.Bpf.Isa;

namespace Appliance.Bpf.Verifier;

/// <summary>How much stack a verified program can touch, so the VM can clear exactly that before each run
/// (no program sees bytes another run left) and make the rest of the stack unreachable.
/// <see cref="FrameBytes"/> bounds every frame's use below its r10; <see cref="CallDepth"/> is the deepest
/// bpf-to-bpf call chain (frames 1..CallDepth below frame 0).
/// <para>A forward, path-insensitive dataflow tracks, per register, the lowest r10-relative offset it may hold
/// when it may be a stack pointer (r10 itself, copies, ± constants; the meet is the minimum). The lowest
/// byte of a load, store, atomic or helper argument through such a register counts. Anything the analysis
/// cannot follow makes the frame a full 512 bytes: a stack pointer stored to memory, passed to a bpf-to-bpf
/// call, returned, combined with a register or by any ALU operation other than ± a constant, or moved below
/// the frame. Addresses forged from scalars are not followed — the VM's stack region ends at the measured
/// depth, so they fault there.</para></summary>
public readonly record struct StackUsage(int FrameBytes, int CallDepth)
{
    private const int NotStack = int.MaxValue;
    private const int MaxPositive = 1 << 20;

    /// <summary>Bytes from the top of the stack that frames 0..<see cref="CallDepth"/> can reach.</summary>
    public int TotalBytes(int frameSize) => CallDepth * frameSize + FrameBytes;

    /// <param name="callDepth">The deepest call chain below the entry, as <see cref="CallChainLimits.Check"/> found it.</param>
    internal static StackUsage Measure(InstructionFacts[] facts, int callDepth)
    {
        int frame = MeasureFrame(facts, out bool full);
        if (full) frame = BpfVerifier.StackSize;
        frame = Math.Min(BpfVerifier.StackSize, (frame + 7) & ~7);
        return new StackUsage(frame, callDepth);
    }

    private static int MeasureFrame(InstructionFacts[] facts, out bool full)
    {
        int n = facts.Length;
        // States are kept at leaders only (function entries and jump targets); blocks are walked linearly.
        int[] leaderSlot = new int[n];
        Array.Fill(leaderSlot, -1);
        var states = new List<int[]>();
        var seeded = new List<bool>();
        int AddLeader(int index)
        {
            if (leaderSlot[index] < 0)
            {
                leaderSlot[index] = states.Count;
                var s = new int[11];
                Array.Fill(s, NotStack);
                states.Add(s);
                seeded.Add(false);
            }
            return leaderSlot[index];
        }

        AddLeader(0);
        for (int i = 0; i < n; i++)
            if (facts[i].Target >= 0) AddLeader(facts[i].Target);

        var work = new Stack<int>();
        void Merge(int index, int[] regs)
        {
            int slot = leaderSlot[index];
            int[] s = states[slot];
            bool changed = !seeded[slot];
            seeded[slot] = true;
            for (int r = 0; r < 11; r++)
                if (regs[r] < s[r]) { s[r] = regs[r]; changed = true; }
            if (changed) work.Push(index);
        }

        var entry = new int[11];
        Array.Fill(entry, NotStack);
        entry[10] = 0;
        Merge(0, entry);
        for (int i = 0; i < n; i++)
            if (facts[i].EntersFunction) Merge(facts[i].Target, entry);

        int lowest = 0; // most negative offset touched
        bool escaped = false;
        var cur = new int[11];
        while (work.Count > 0)
        {
            int start = work.Pop();
            states[leaderSlot[start]].CopyTo(cur, 0);
            int i = start;
            while (true)
            {
                var f = facts[i];
                Step(f, cur, ref lowest, ref escaped);
                int count = f.SuccessorCount(i, out int a, out int b);
                if (count == 2) Merge(b, cur);
                if (count == 0) break;
                if (f.Op == VmOp.Ja || leaderSlot[a] >= 0) { Merge(a, cur); break; }
                i = a;
            }
        }
        full = escaped || lowest < -BpfVerifier.StackSize;
        return -lowest;
    }

    private static void Step(InstructionFacts f, int[] regs, ref int lowest, ref bool escaped)
    {
        var ins = f.Instruction;

        switch (f.Op)
        {
            case VmOp.Mov64Reg:
                regs[ins.Dst] = regs[ins.Src];
                return;
            case VmOp.Add64Imm or VmOp.Sub64Imm:
                if (regs[ins.Dst] != NotStack)
                {
                    long moved = (long)regs[ins.Dst] + (f.Op == VmOp.Add64Imm ? ins.Imm : -(long)ins.Imm);
                    if (moved < -BpfVerifier.StackSize) escaped = true;
                    regs[ins.Dst] = (int)Math.Clamp(moved, -BpfVerifier.StackSize, MaxPositive);
                }
                return;
            case >= VmOp.Ldx8 and <= VmOp.Ldxs32:
                Touch(regs, ins.Src, ins.Offset, ref lowest);
                regs[ins.Dst] = NotStack;
                return;
            case >= VmOp.St8 and <= VmOp.St64:
                Touch(regs, ins.Dst, ins.Offset, ref lowest);
                return;
            case >= VmOp.Stx8 and <= VmOp.AtomicCmpXchg64:
                Touch(regs, ins.Dst, ins.Offset, ref lowest);
                if (regs[ins.Src] != NotStack) escaped = true; // a stack pointer stored to memory
                if ((f.Writes & 1) != 0) regs[0] = NotStack;
                if (f.Op is >= VmOp.AtomicFetchAdd32 and <= VmOp.AtomicXchg32 or >= VmOp.AtomicFetchAdd64 and <= VmOp.AtomicXchg64)
                    regs[ins.Src] = NotStack;
                return;
            case VmOp.CallHelper or VmOp.CallLocal or VmOp.CallReg:
                for (int r = 1; r <= 5; r++)
                {
                    if (f.Op == VmOp.CallHelper) Touch(regs, r, 0, ref lowest); // helpers access [p, p + len)
                    else if (regs[r] != NotStack) escaped = true;
                }
                for (int r = 0; r <= 5; r++) regs[r] = NotStack;
                return;
            case >= VmOp.LdAbs8 and <= VmOp.LdInd32:
                for (int r = 0; r <= 5; r++) regs[r] = NotStack;
                return;
            case VmOp.Exit:
                if (regs[0] != NotStack) escaped = true;
                return;
        }
        if (f.Op == VmOp.LoadImm64)
        {
            regs[ins.Dst] = NotStack;
        }
        else if (f.Op is >= VmOp.Add64Imm and <= VmOp.Be64)
        {
            // Any other ALU operation: a stack pointer among its inputs makes an offset we do not follow.
            int reads = f.Reads;
            for (int r = 0; r <= 10; r++)
                if ((reads & (1 << r)) != 0 && regs[r] != NotStack) escaped = true;
            regs[ins.Dst] = NotStack;
        }
    }

    /// <summary>Counts an access at <paramref name="offset"/> from <paramref name="reg"/> when it may point into the stack.</summary>
    private static void Touch(int[] regs, int reg, int offset, ref int lowest)
    {
        if (regs[reg] != NotStack) lowest = Math.Min(lowest, regs[reg] + offset);
    }
}
