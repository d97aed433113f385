namespace Appliance.Bpf.Verifier;

/// <summary>Finds the strongly connected components of the control-flow graph (Tarjan, iterative) and rejects
/// every cycle that no edge leaves and that holds no exit: such a loop can never end. Loops with a
/// conditional way out are left to the instruction budget.</summary>
internal static class LoopAnalysis
{
    public static void RejectEndlessLoops(InstructionFacts[] facts, bool[] reachable, Action<int, string> fail)
    {
        int n = facts.Length;
        int[] index = new int[n], low = new int[n], component = new int[n];
        Array.Fill(index, -1);
        bool[] onStack = new bool[n];
        var stack = new Stack<int>();
        var call = new Stack<(int Node, int Edge)>();
        int counter = 0, components = 0;

        for (int root = 0; root < n; root++)
        {
            if (!reachable[root] || index[root] != -1) continue;
            call.Push((root, 0));
            index[root] = low[root] = counter++;
            stack.Push(root);
            onStack[root] = true;
            while (call.Count > 0)
            {
                var (v, edge) = call.Pop();
                int count = facts[v].SuccessorCount(v, out int a, out int b);
                if (edge < count)
                {
                    call.Push((v, edge + 1));
                    int w = edge == 0 ? a : b;
                    if (index[w] == -1)
                    {
                        index[w] = low[w] = counter++;
                        stack.Push(w);
                        onStack[w] = true;
                        call.Push((w, 0));
                    }
                    else if (onStack[w])
                    {
                        low[v] = Math.Min(low[v], index[w]);
                    }
                    continue;
                }
                if (low[v] == index[v])
                {
                    int w;
                    do { w = stack.Pop(); onStack[w] = false; component[w] = components; } while (w != v);
                    components++;
                }
                if (call.Count > 0)
                {
                    int parent = call.Peek().Node;
                    low[parent] = Math.Min(low[parent], low[v]);
                }
            }
        }

        // A component is a loop if it has two or more members or a self edge; it is endless if nothing leaves it.
        var size = new int[components];
        var leaves = new bool[components];
        var selfLoop = new bool[components];
        var first = new int[components];
        Array.Fill(first, int.MaxValue);
        for (int v = 0; v < n; v++)
        {
            if (!reachable[v] || facts[v].IsWideTail) continue;
            int c = component[v];
            size[c]++;
            first[c] = Math.Min(first[c], v);
            if (facts[v].Op == Isa.VmOp.Exit) leaves[c] = true;
            int count = facts[v].SuccessorCount(v, out int a, out int b);
            for (int k = 0; k < count; k++)
            {
                int w = k == 0 ? a : b;
                if (w == v) selfLoop[c] = true;
                if (component[w] != c) leaves[c] = true;
            }
        }
        for (int c = 0; c < components; c++)
        {
            if ((size[c] > 1 || selfLoop[c]) && !leaves[c])
                fail(first[c], "endless loop: no path leaves this cycle (it has no exit and no conditional jump out)");
        }
    }
}
