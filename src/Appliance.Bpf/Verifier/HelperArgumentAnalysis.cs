using Appliance.Bpf.Helpers;
using Appliance.Bpf.Isa;

namespace Appliance.Bpf.Verifier;

/// <summary>Checks the calls of helpers with a <see cref="HelperArgumentRule"/> (the memory and sizes they take
/// through arguments, bpf_fib_lookup's flags, the constant strings of bpf_strncmp and bpf_snprintf; whether a map's
/// access flags let the helper read or write the memory is <see cref="PointerAnalysis"/>'s) and the map argument of map helpers (<see cref="MapHelperCompatibility"/>): a forward
/// must-analysis tracks, per register, a constant, a constant offset from the frame pointer, a map (lddw src 1) or
/// constant offsets into maps' values (lddw src 2: globals, .rodata) that hold on every path (mov of an immediate or
/// a register, lddw, add/sub of an immediate; r10 is the frame pointer; any other write and a call for r0–r5 forget
/// it), and every reachable call is judged with what is known there, in callbacks and sub-programs too. A value
/// address may be one of up to <see cref="MaxChoices"/> (map, offset) pairs: a static function handed a different
/// .rodata string at each call sees each of them, and each is judged, as the kernel verifies the function at every
/// call with what that call passes.
/// Programs calling no such helper skip the analysis.</summary>
internal static class HelperArgumentAnalysis
{
    private enum Kind : byte { Unvisited, Unknown, Constant, Stack, MapValue, MapHandle }

    /// <summary>How many (map, offset) pairs a value address may be one of before it is unknown.</summary>
    public const int MaxChoices = 4;

    /// <summary><see cref="Number"/>: the constant, or the offset from the frame pointer or into map <see cref="Map"/>'s
    /// value, or (MapHandle) 0 with the map in <see cref="Map"/>. A MapValue may be one of <see cref="More"/> + 1
    /// pairs: (Map, Number), then <see cref="Others"/>.</summary>
    private readonly record struct Value(Kind Kind, long Number, int Map = 0, int More = 0, Choices Others = default)
    {
        public static readonly Value Unknown = new(Kind.Unknown, 0);

        public static Value Join(Value a, Value b)
        {
            if (a == b) return a;
            if (a.Kind != Kind.MapValue || b.Kind != Kind.MapValue) return Unknown;
            var pairs = new List<(int Map, long Offset)>(a.Pairs());
            foreach (var pair in b.Pairs())
                if (!pairs.Contains(pair)) pairs.Add(pair);
            if (pairs.Count > MaxChoices) return Unknown;
            pairs.Sort();
            return Of(pairs);
        }

        public static Value Of(List<(int Map, long Offset)> pairs)
        {
            var others = new Choices();
            for (int k = 1; k < pairs.Count; k++) others = others.With(k - 1, pairs[k]);
            return new Value(Kind.MapValue, pairs[0].Offset, pairs[0].Map, pairs.Count - 1, others);
        }

        public IEnumerable<(int Map, long Offset)> Pairs()
        {
            yield return (Map, Number);
            for (int k = 0; k < More; k++) yield return Others.At(k);
        }

        public Value Moved(long by) => Kind == Kind.MapValue
            ? Of([.. Pairs().Select(p => (p.Map, p.Offset + by))])
            : this with { Number = Number + by };
    }

    /// <summary>Up to three more (map, offset) pairs of a value address, compared by value.</summary>
    private readonly record struct Choices(int M0, long O0, int M1, long O1, int M2, long O2)
    {
        public (int, long) At(int k) => k switch { 0 => (M0, O0), 1 => (M1, O1), _ => (M2, O2) };

        public Choices With(int k, (int Map, long Offset) p) => k switch
        {
            0 => this with { M0 = p.Map, O0 = p.Offset },
            1 => this with { M1 = p.Map, O1 = p.Offset },
            _ => this with { M2 = p.Map, O2 = p.Offset },
        };
    }

    /// <param name="identities">Each map's name and type, for the map helpers' check; null skips it.</param>
    public static void Run(InstructionFacts[] facts, bool[] reachable, BpfHelperTable helpers, IReadOnlyList<MapValueShape?> maps,
        IReadOnlyList<MapIdentity>? identities, Action<int, string> fail)
    {
        bool linux = helpers is LinuxHelperTable && identities is not null;
        bool any = false;
        for (int i = 0; i < facts.Length && !any; i++)
            any = facts[i].Op == VmOp.CallHelper && (helpers.ArgumentRule(facts[i].Instruction.Imm) is not null
                || linux && MapHelperCompatibility.MapArgument(facts[i].Instruction.Imm) != 0);
        if (!any) return;

        int n = facts.Length;
        var state = new Value[n * 11];
        var work = new Stack<int>();
        var entry = new Value[11];
        Array.Fill(entry, Value.Unknown);
        entry[10] = new Value(Kind.Stack, 0);
        void Seed(int index, ReadOnlySpan<Value> regs)
        {
            var at = state.AsSpan(index * 11, 11);
            bool changed = false;
            for (int r = 0; r < 11; r++)
            {
                var merged = at[r].Kind == Kind.Unvisited ? regs[r] : Value.Join(at[r], regs[r]);
                if (merged != at[r]) { at[r] = merged; changed = true; }
            }
            if (changed) work.Push(index);
        }

        // Callbacks start with nothing known (their helper passes the arguments); a sub-program with what every call
        // of it passes in r1-r5 (a .rodata string handed to a static function stays constant, as the kernel sees it),
        // except pointers into the caller's stack: r10 is another frame's there.
        Seed(0, entry);
        for (int i = 0; i < n; i++)
            if (facts[i].IsFunctionAddress) Seed(facts[i].Target, entry);
        Span<Value> after = stackalloc Value[11];
        Span<Value> arguments = stackalloc Value[11];
        while (work.Count > 0)
        {
            int i = work.Pop();
            state.AsSpan(i * 11, 11).CopyTo(after);
            if (facts[i].Op == VmOp.CallLocal)
            {
                entry.CopyTo(arguments);
                for (int r = 1; r <= 5; r++)
                    if (after[r].Kind != Kind.Stack) arguments[r] = after[r];
                Seed(facts[i].Target, arguments);
            }
            Transfer(facts, i, after);
            int count = facts[i].SuccessorCount(i, out int a, out int b);
            if (count >= 1) Seed(a, after);
            if (count == 2) Seed(b, after);
        }

        for (int i = 0; i < n; i++)
        {
            if (!reachable[i] || facts[i].Op != VmOp.CallHelper || state[i * 11].Kind == Kind.Unvisited) continue;
            int id = facts[i].Instruction.Imm;
            if (linux && MapHelperCompatibility.MapArgument(id) is int mapArgument && mapArgument != 0
                && state[i * 11 + mapArgument] is { Kind: Kind.MapHandle } handle && (uint)handle.Map < (uint)identities!.Count
                && MapHelperCompatibility.WhyRefused(id, helpers.NameOf(id), identities[handle.Map]) is { } wrongMap)
                fail(i, $"bpf_{helpers.NameOf(id)}: {wrongMap}");
            if (helpers.ArgumentRule(id) is not { } rule) continue;
            if (Judge(state.AsSpan(i * 11, 11), rule, maps) is { } reason)
                fail(i, $"bpf_{helpers.NameOf(id)}: {reason}");
        }
    }

    private static string? Judge(ReadOnlySpan<Value> regs, HelperArgumentRule rule, IReadOnlyList<MapValueShape?> maps)
    {
        if (rule.ConstStringArgument != 0 && JudgeConstString(regs, rule, maps) is { } notConstant) return notConstant;
        if (rule.FlagsArgument != 0 && regs[rule.FlagsArgument] is { Kind: Kind.Constant } flags && rule.WhyFlagsRefused?.Invoke((ulong)flags.Number) is { } why)
            return why;
        foreach (var argument in rule.Memory)
            if (argument.SizeFrom == HelperMemorySize.Argument && JudgeMemory(regs, argument) is { } wrong) return wrong;
        return null;
    }

    /// <summary>A pointer argument with its size in another (ARG_PTR_TO_MEM + ARG_CONST_SIZE[_OR_ZERO]), where the size is a constant.</summary>
    private static string? JudgeMemory(ReadOnlySpan<Value> regs, HelperMemoryArgument argument)
    {
        int r = argument.Register, sizeRegister = argument.Size;
        var size = regs[sizeRegister];
        var memory = regs[r];
        if (size.Kind != Kind.Constant) return null;
        long bytes = size.Number;
        if (bytes < 0 || bytes > int.MaxValue) return $"the size r{sizeRegister} is negative or too large ({bytes})";
        if (bytes == 0) return argument.SizeMayBeZero ? null : $"the size r{sizeRegister} is 0 (the helper needs memory)";
        if (memory is { Kind: Kind.Constant, Number: 0 }) return $"r{r} is NULL but the size r{sizeRegister} is {bytes}";
        if (memory.Kind == Kind.Stack && (memory.Number < -BpfVerifier.StackSize || memory.Number + bytes > 0))
            return $"r{r} points to {bytes} bytes at fp{memory.Number:+0;-0}, outside the {BpfVerifier.StackSize}-byte stack frame";
        return null;
    }

    /// <summary>The kernel's check of an ARG_PTR_TO_CONST_STR argument (check_reg_const_str), then the rule's own
    /// judgement of the string.</summary>
    private static string? JudgeConstString(ReadOnlySpan<Value> regs, HelperArgumentRule rule, IReadOnlyList<MapValueShape?> maps)
    {
        int r = rule.ConstStringArgument;
        var pointer = regs[r];
        if (pointer.Kind != Kind.MapValue)
            return $"r{r} is not a constant address in a map value (a constant string: in .rodata, e.g. a static const char array)";
        long? count = rule.CountArgument != 0 && regs[rule.CountArgument] is { Kind: Kind.Constant } c ? c.Number : null;
        foreach (var (map, offset) in pointer.Pairs())
        {
            if ((uint)map >= (uint)maps.Count || maps[map] is not { Constant: { } value })
                return $"r{r} does not point to a read-only map (a constant string is in .rodata or a frozen BPF_F_RDONLY_PROG array of one element)";
            if (offset < 0 || offset >= value.Length)
                return $"r{r} points {offset} bytes into a {value.Length}-byte map value, outside it";
            int length = Array.IndexOf(value, (byte)0, (int)offset) - (int)offset;
            if (length < 0) return $"the string at r{r} is not zero-terminated";
            if (rule.WhyConstStringRefused?.Invoke(value.AsSpan((int)offset, length).ToArray(), count) is { } why) return why;
        }
        return null;
    }

    private static void Transfer(InstructionFacts[] facts, int i, Span<Value> regs)
    {
        var f = facts[i];
        var ins = f.Instruction;
        var dst = ins.Dst;
        switch (f.Op)
        {
            case VmOp.Mov64Imm:
                regs[dst] = new Value(Kind.Constant, ins.Imm);
                return;
            case VmOp.Mov32Imm:
                regs[dst] = new Value(Kind.Constant, (uint)ins.Imm);
                return;
            case VmOp.Mov64Reg:
                regs[dst] = regs[ins.Src];
                return;
            case VmOp.Mov32Reg:
                regs[dst] = regs[ins.Src] is { Kind: Kind.Constant } c ? new Value(Kind.Constant, (uint)c.Number) : Value.Unknown;
                return;
            case VmOp.LoadImm64:
                regs[dst] = i + 1 >= facts.Length ? Value.Unknown : ins.Src switch
                {
                    0 => new Value(Kind.Constant, (long)((uint)ins.Imm | (ulong)(uint)facts[i + 1].Instruction.Imm << 32)),
                    BpfOpcodes.PseudoMapValue => new Value(Kind.MapValue, (uint)facts[i + 1].Instruction.Imm, ins.Imm),
                    BpfOpcodes.PseudoMapFd => new Value(Kind.MapHandle, 0, ins.Imm),
                    _ => Value.Unknown,
                };
                return;
            case VmOp.Add64Imm or VmOp.Sub64Imm when regs[dst].Kind is Kind.Constant or Kind.Stack or Kind.MapValue:
                regs[dst] = regs[dst].Moved(f.Op == VmOp.Add64Imm ? ins.Imm : -(long)ins.Imm);
                return;
        }
        if (f.IsCall)
            for (int r = 0; r <= 5; r++) regs[r] = Value.Unknown;
        int writes = f.Writes;
        for (int r = 0; r < 11; r++)
            if ((writes & (1 << r)) != 0) regs[r] = Value.Unknown;
    }
}
