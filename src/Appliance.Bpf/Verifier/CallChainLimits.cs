using Appliance.Bpf.Helpers;
using Appliance.Bpf.Isa;

namespace Appliance.Bpf.Verifier;

/// <summary>The kernel's limits on bpf-to-bpf call chains (check_max_stack_depth in kernel/bpf/verifier.c), checked
/// over the static call graph as the kernel walks it: every call and every callback address (lddw src 4) of a
/// function is an edge, in live code or not.
/// <list type="bullet">
/// <item>At most <see cref="MaxCallFrames"/> frames (MAX_CALL_FRAMES): the program's entry and 7 nested calls.
/// Recursion always passes it, as in the kernel.</item>
/// <item>At most <see cref="MaxCombinedStack"/> bytes of stack summed over a chain (MAX_BPF_STACK), each function's
/// depth rounded up to 16 bytes, as the kernel does when the program is JIT-compiled (its interpreter rounds to 32, so
/// 16 refuses nothing the JIT would accept). A function's depth here is the deepest fixed r10-relative load or store
/// in code that can run, counted only for functions a live call or callback reaches from the entry (the kernel gives a
/// static function it never verifies a depth of 0). It aims at a lower bound of the kernel's, which also counts
/// accesses through computed stack pointers and helper arguments; the kernel's path exploration can still prove
/// code dead that the constant analysis here keeps (see README "verifier").</item>
/// <item>A tail call in a function other than the entry only while the functions calling it hold less than
/// <see cref="MaxStackBeforeTailCall"/> bytes of stack (the kernel bounds the stack 33 tail calls can pile up).</item>
/// </list></summary>
internal static class CallChainLimits
{
    public const int MaxCallFrames = 8;
    public const int MaxCombinedStack = 512;
    public const int MaxStackBeforeTailCall = 256;

    /// <param name="live">Instructions a path can reach (dead branches on constants excluded): only their stack accesses count.</param>
    /// <returns>The deepest chain of calls and callbacks below the entry (0..<see cref="MaxCallFrames"/> − 1): what
    /// <see cref="StackUsage.CallDepth"/> sizes the VM's frames by.</returns>
    public static int Check(InstructionFacts[] facts, int[] functionOf, bool[] live, Action<int, string> fail)
    {
        // Function entry → (callee entry, first calling instruction); own stack depth; whether it has a tail call.
        var callees = new Dictionary<int, List<(int Callee, int At)>>();
        var depth = new Dictionary<int, int>();
        var tailCallAt = new Dictionary<int, int>();
        var edges = new HashSet<(int, int)>();
        var liveCallees = new Dictionary<int, List<int>>();
        for (int i = 0; i < facts.Length; i++)
        {
            var f = facts[i];
            int function = functionOf[i];
            if (!callees.TryGetValue(function, out var list)) callees[function] = list = [];
            if (f.EntersFunction && edges.Add((function, f.Target))) list.Add((f.Target, i));
            if (f.EntersFunction && live[i])
            {
                if (!liveCallees.TryGetValue(function, out var calls)) liveCallees[function] = calls = [];
                calls.Add(f.Target);
            }
            if (f.Op == VmOp.CallHelper && f.Instruction.Imm == (int)BpfHelperId.TailCall) tailCallAt.TryAdd(function, i);
            if (live[i] && R10Offset(f) is int offset && -offset > depth.GetValueOrDefault(function))
                depth[function] = -offset;
        }
        // A function no live call reaches from the entry runs never: its stack counts 0, as the kernel's for a static
        // function it never verified (the static walk below still follows its calls, as the kernel's does).
        var reached = new HashSet<int> { 0 };
        var pending = new Stack<int>([0]);
        while (pending.TryPop(out int function))
            foreach (int callee in liveCallees.GetValueOrDefault(function) ?? [])
                if (reached.Add(callee)) pending.Push(callee);
        foreach (int function in depth.Keys.ToList())
            if (!reached.Contains(function)) depth[function] = 0;

        // Longest chains below each function (frames, stack), by a depth-first walk that finds recursion and stops at
        // the frame limit (so it recurses at most MaxCallFrames deep, whatever the object holds).
        var frames = new Dictionary<int, int>();
        var stack = new Dictionary<int, int>();
        var deepest = new Dictionary<int, (int Callee, int At)>();
        var biggest = new Dictionary<int, (int Callee, int At)>();
        var onPath = new List<int>();
        var order = new List<int>(); // post-order
        void Walk(int function)
        {
            onPath.Add(function);
            int bestFrames = 0, bestStack = 0;
            foreach (var (callee, at) in callees.GetValueOrDefault(function) ?? [])
            {
                int loop = onPath.IndexOf(callee);
                if (loop >= 0)
                    fail(at, $"the function at instruction {callee} calls itself ({Chain(onPath.Skip(loop).Append(callee))}): recursion passes the " +
                        $"kernel's limit of {MaxCallFrames} call frames (MAX_CALL_FRAMES; the kernel says \"the call stack of {MaxCallFrames} frames is too deep\")");
                if (!frames.ContainsKey(callee))
                {
                    if (onPath.Count >= MaxCallFrames) TooDeep(at, [.. onPath, callee]);
                    Walk(callee);
                }
                if (onPath.Count + frames[callee] > MaxCallFrames) TooDeep(at, [.. onPath, .. Follow(callee, deepest).Chain]);
                if (frames[callee] > bestFrames) { bestFrames = frames[callee]; deepest[function] = (callee, at); }
                if (stack[callee] > bestStack) { bestStack = stack[callee]; biggest[function] = (callee, at); }
            }
            frames[function] = 1 + bestFrames;
            stack[function] = Rounded(depth.GetValueOrDefault(function)) + bestStack;
            onPath.RemoveAt(onPath.Count - 1);
            order.Add(function);
        }
        void TooDeep(int at, List<int> chain) =>
            fail(at, $"the call stack of {chain.Count} frames is too deep ({Chain(chain)}): the kernel allows {MaxCallFrames} frames, " +
                "the program's entry and 7 nested bpf-to-bpf calls or callbacks (MAX_CALL_FRAMES)");
        Walk(0);

        if (stack[0] > MaxCombinedStack)
        {
            var (chain, _) = Follow(0, biggest);
            int at = 0, sum = 0;
            for (int k = 0; k < chain.Count; k++)
            {
                sum += Rounded(depth.GetValueOrDefault(chain[k]));
                if (sum > MaxCombinedStack) { at = k == 0 ? 0 : biggest[chain[k - 1]].At; break; }
            }
            fail(at, $"the combined stack of {chain.Count} calls is {stack[0]} bytes ({Chain(chain)}: " +
                $"{string.Join(" + ", chain.Select(c => Rounded(depth.GetValueOrDefault(c))))}, each function's stack rounded up to 16 bytes): " +
                $"the kernel allows {MaxCombinedStack} bytes over a call chain (MAX_BPF_STACK; it says \"combined stack size of {chain.Count} calls is {stack[0]}. Too large\")");
        }

        // The stack the callers of each function hold, the most over the chains reaching it (callers before callees).
        var before = new Dictionary<int, int> { [0] = 0 };
        for (int k = order.Count - 1; k >= 0; k--)
        {
            int function = order[k];
            if (!before.TryGetValue(function, out int held)) continue;
            foreach (var (callee, _) in callees.GetValueOrDefault(function) ?? [])
                before[callee] = Math.Max(before.GetValueOrDefault(callee), held + Rounded(depth.GetValueOrDefault(function)));
        }
        foreach (var (function, at) in tailCallAt)
            if (function != 0 && before.TryGetValue(function, out int held) && held >= MaxStackBeforeTailCall)
                fail(at, $"a tail call in the function at instruction {function}, whose callers hold {held} bytes of stack: the kernel allows tail calls " +
                    $"in a called function only below {MaxStackBeforeTailCall} bytes of its callers' stack (it says \"tail_calls are not allowed when " +
                    $"call stack of previous frames is {held} bytes. Too large\")");
        return Math.Min(frames[0], MaxCallFrames) - 1;
    }

    /// <summary>The offset of a load, store or atomic addressed through r10 itself, else null.</summary>
    private static int? R10Offset(InstructionFacts f)
    {
        var ins = f.Instruction;
        if (f.Op is >= VmOp.Ldx8 and <= VmOp.Ldxs32) return ins.Src == 10 ? ins.Offset : null;
        if (f.Op is >= VmOp.St8 and <= VmOp.AtomicCmpXchg64) return ins.Dst == 10 ? ins.Offset : null;
        return null;
    }

    private static int Rounded(int bytes) => (bytes + 15) & ~15;

    /// <summary>The chain from <paramref name="start"/> following <paramref name="next"/>, and the call that enters its last function.</summary>
    private static (List<int> Chain, int At) Follow(int start, Dictionary<int, (int Callee, int At)> next)
    {
        var chain = new List<int> { start };
        int at = 0;
        while (next.TryGetValue(chain[^1], out var step))
        {
            chain.Add(step.Callee);
            at = step.At;
        }
        return (chain, at);
    }

    private static string Chain(IEnumerable<int> functions) =>
        string.Join(" → ", functions.Select(f => f == 0 ? "the entry" : $"instruction {f}"));
}
