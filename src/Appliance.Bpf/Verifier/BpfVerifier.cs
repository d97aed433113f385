using Appliance.Bpf.Assembly;
using Appliance.Bpf.Helpers;
using Appliance.Bpf.Isa;
using Appliance.Bpf.Objects;

namespace Appliance.Bpf.Verifier;

/// <summary>The load-time verifier. It proves what it can cheaply and exactly, and leaves the rest to the
/// VM's runtime checks (bounds, budget): valid opcodes and encodings, registers r0–r10 only, r10 never
/// written, jump and call targets inside the program, inside their function and never into the second slot
/// of an lddw, no fall-through off the end of a function, known helper ids, map indices of pseudo lddw below
/// <c>mapCount</c>, fixed r10-relative stack accesses inside [-512, 0), registers read only after they are
/// written on every path, no unreachable instructions, and no loop without a way out. It aims to take everything
/// the kernel verifier accepts from clang -O2; where it follows values less far than the kernel (code the kernel
/// proves dead by value ranges or per call still counts here), the README lists what differs. Context loads and stores follow the kernel's
/// tc rules wherever the context register can be tracked (<see cref="ContextAccessAnalysis"/>); the memory, size and
/// constant flags of helpers with argument rules are checked where they are known (<see cref="HelperArgumentAnalysis"/>).</summary>
public static class BpfVerifier
{
    public const int StackSize = 512;

    /// <summary>The deepest bpf-to-bpf call the VM runs (frames 0..7: the kernel's MAX_CALL_FRAMES, which
    /// <see cref="CallChainLimits"/> checks at load, less the entry's frame).</summary>
    public const int MaxCallDepth = CallChainLimits.MaxCallFrames - 1;

    /// <summary>Where each callback of <paramref name="image"/> starts (lddw src 4 targets), for the VM's check that
    /// a helper's callback_fn argument names one.</summary>
    internal static IEnumerable<int> CallbackEntries(ulong[] code)
    {
        for (int i = 0; i < code.Length; i++)
        {
            var ins = BpfInstruction.Decode(code[i]);
            if (ins.Opcode == BpfOpcodes.Lddw)
            {
                if (ins.Src == BpfOpcodes.PseudoFunc) yield return i + 1 + ins.Imm;
                i++;
            }
        }
    }

    /// <summary>Verifies <paramref name="image"/> (throws <see cref="BpfVerifierException"/>) and measures the stack
    /// it can reach (<see cref="StackUsage"/>).</summary>
    public static StackUsage Verify(BpfProgramImage image, int mapCount, BpfHelperTable helpers, BpfVerifierOptions? options = null) =>
        Verify(image, new MapValueShape?[mapCount], null, helpers, options, out _, out _, out _);

    /// <param name="maps">One entry per map of the object: the shape of its values where lookups and value
    /// addresses of it are followed (<see cref="PointerAnalysis"/>), else null.</param>
    /// <param name="identities">Each map's name and type, for the check of map helpers' map argument
    /// (<see cref="MapHelperCompatibility"/>); null skips it.</param>
    /// <param name="contextAccesses">Loads and stores proven to address the context, with the offset to use
    /// (instruction index → offset, rewritten for narrow loads; see <see cref="ContextAccessAnalysis"/>).</param>
    /// <param name="accessProofs">Per instruction, the region its memory access is proven to stay inside
    /// (<see cref="PointerAnalysis"/>): compiled code skips the run-time check there.</param>
    /// <param name="deadCode">Instructions the control flow reaches only through branches on constants that never go
    /// their way (<see cref="DeadBranchAnalysis"/>): not checked, as in the kernel, so the loader must never run them
    /// (it makes them faults, as the kernel's sanitize_dead_code makes them traps).</param>
    internal static StackUsage Verify(BpfProgramImage image, IReadOnlyList<MapValueShape?> maps, IReadOnlyList<MapIdentity>? identities,
        BpfHelperTable helpers, BpfVerifierOptions? options,
        out Dictionary<int, short> contextAccesses, out AccessProof[] accessProofs, out bool[] deadCode)
    {
        contextAccesses = [];
        accessProofs = [];
        deadCode = [];
        ArgumentNullException.ThrowIfNull(maps);
        int mapCount = maps.Count;
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(helpers);
        options ??= BpfVerifierOptions.TcProgram;
        ulong[] code = image.Instructions;
        string section = Where(image);

        if (options.ContextInR1 && ProgramSections.OtherProgramType(image.Section) is { } otherType)
            throw new BpfVerifierException(section, -1, "", $"it is {otherType}, by its section name; " +
                "the appliance runs tc programs only (context struct __sk_buff, TC_ACT_* verdicts; sections \"tc\", \"classifier\", \"tcx/…\", \"netkit/primary\", \"netkit/peer\")");
        if (image.Refusal is { } refusal) throw new BpfVerifierException(section, -1, "", refusal);
        if (code.Length == 0) throw new BpfVerifierException(section, -1, "", "the program is empty");
        if (code.Length > options.MaxInstructions)
            throw new BpfVerifierException(section, -1, "", $"the program has {code.Length} instructions, more than the limit of {options.MaxInstructions}");

        var facts = DecodeAll(code, section, mapCount, helpers, out var unsupportedHelpers);
        if (!options.ContextInR1)
            for (int i = 0; i < facts.Length; i++)
                if (facts[i].IsLegacyPacketLoad) Fail(code, section, i, "a legacy packet load (LD_ABS/LD_IND) needs a tc program's __sk_buff in r6");
        int[] functionOf = AssignFunctions(facts, code, section);
        CheckControlFlow(facts, functionOf, code, section);
        // Code only a branch on constants would reach is not checked, as the kernel never visits it: libbpf's poisoned
        // CO-RE reads (image.Poisoned) and helpers the program type lacks may sit behind bpf_core_field_exists() there.
        bool[] live = DeadBranchAnalysis.Run(facts, maps);
        for (int i = 0; i < facts.Length; i++)
        {
            if (!live[i]) continue;
            if (image.Poisoned.TryGetValue(i, out var poisoned)) Fail(code, section, i, poisoned);
            if (unsupportedHelpers.TryGetValue(i, out var helper)) Fail(code, section, i, helper);
        }
        var callbacks = CallbackAnalysis.FindCallbacks(facts, (index, reason) => Fail(code, section, index, reason));
        bool[] reachable = RegisterInitAnalysis.Run(facts, functionOf, options.EntryRegisters, callbacks, live, (index, reason) => Fail(code, section, index, reason));
        deadCode = new bool[facts.Length];
        for (int i = 0; i < facts.Length; i++)
        {
            deadCode[i] = reachable[i] && !live[i] && !facts[i].IsWideTail;
            reachable[i] &= live[i] || facts[i].IsWideTail;
        }
        CallbackAnalysis.CheckReturns(facts, functionOf, reachable, callbacks, (index, reason) => Fail(code, section, index, reason));
        SpinLockAnalysis.Run(facts, functionOf, (index, reason) => Fail(code, section, index, reason));
        if (options.ContextInR1)
            contextAccesses = ContextAccessAnalysis.Run(facts, reachable, (index, reason) => Fail(code, section, index, reason));
        HelperArgumentAnalysis.Run(facts, reachable, helpers, maps, identities, (index, reason) => Fail(code, section, index, reason));
        LoopAnalysis.RejectEndlessLoops(facts, reachable, (index, reason) => Fail(code, section, index, reason));
        if (options.RejectUnreachable)
        {
            for (int i = 0; i < facts.Length; i++)
                if (!reachable[i] && !deadCode[i] && !facts[i].IsWideTail) Fail(code, section, i, "unreachable instruction");
        }
        int callDepth = CallChainLimits.Check(facts, functionOf, live, (index, reason) => Fail(code, section, index, reason));
        var stack = StackUsage.Measure(facts, callDepth);
        accessProofs = PointerAnalysis.Run(facts, functionOf, contextAccesses, maps, identities, helpers, image.GlobalFunctions, stack.FrameBytes,
            reachable, (index, reason) => Fail(code, section, index, reason));
        return stack;
    }

    /// <summary>How messages name a program: its section and its name, "tc (program balancer)".</summary>
    internal static string Where(BpfProgramImage image) => $"{image.Section} (program {image.Name})";

    internal static void Fail(ulong[] code, string section, int index, string reason) =>
        throw new BpfVerifierException(section, index, BpfDisassembler.Disassemble(code, index), reason);

    /// <param name="unsupportedHelpers">Calls of helpers the table does not define, with why: refused where they can run.</param>
    private static InstructionFacts[] DecodeAll(ulong[] code, string section, int mapCount, BpfHelperTable helpers, out Dictionary<int, string> unsupportedHelpers)
    {
        unsupportedHelpers = [];
        var facts = new InstructionFacts[code.Length];
        for (int i = 0; i < code.Length; i++)
        {
            var ins = BpfInstruction.Decode(code[i]);
            VmOp op = OpcodeClassifier.Classify(ins, out string? reason);
            if (op == VmOp.Invalid) Fail(code, section, i, $"invalid instruction: {reason}");
            if (ins.Dst > 10 || ins.Src > 10 && op is not (VmOp.LoadImm64 or VmOp.CallHelper or VmOp.CallLocal))
                Fail(code, section, i, "register number above r10");

            int target = -1;
            bool hasTarget = op is VmOp.Ja or VmOp.CallLocal or (>= VmOp.Jeq64Imm and <= VmOp.Jsle32Reg);
            if (op == VmOp.LoadImm64)
            {
                if (i + 1 >= code.Length) Fail(code, section, i, "lddw is missing its second slot");
                var tail = BpfInstruction.Decode(code[i + 1]);
                if (tail.Opcode != 0 || tail.Dst != 0 || tail.Src != 0 || tail.Offset != 0)
                    Fail(code, section, i, "the second slot of lddw must be zero except its imm");
                if (ins.Src is BpfOpcodes.PseudoMapFd or BpfOpcodes.PseudoMapValue && (uint)ins.Imm >= (uint)mapCount)
                    Fail(code, section, i, $"map index {(uint)ins.Imm} does not exist (the object has {mapCount} map(s))");
                if (ins.Src == BpfOpcodes.PseudoMapFd && tail.Imm != 0)
                    Fail(code, section, i, "a map reference (lddw src 1) must have next imm 0");
                if (ins.Src == BpfOpcodes.PseudoFunc)
                {
                    if (tail.Imm != 0) Fail(code, section, i, "a function address (lddw src 4) must have next imm 0");
                    target = i + 1 + ins.Imm;
                    hasTarget = true;
                }
            }
            else if (op == VmOp.Ja)
            {
                target = i + 1 + (ins.Opcode == BpfOpcodes.Ja32 ? ins.Imm : ins.Offset);
            }
            else if (op is >= VmOp.Jeq64Imm and <= VmOp.Jsle32Reg)
            {
                target = i + 1 + ins.Offset;
            }
            else if (op == VmOp.CallLocal)
            {
                target = i + 1 + ins.Imm;
            }
            else if (op == VmOp.CallHelper && !helpers.IsDefined(ins.Imm))
            {
                unsupportedHelpers[i] = (helpers.WhyRefused(ins.Imm) is { } why
                    ? $"helper bpf_{helpers.NameOf(ins.Imm)} (#{ins.Imm}) is not supported: {why}"
                    : $"unknown helper {ins.Imm} (not in the helper table)");
            }

            if (hasTarget && (target < 0 || target >= code.Length))
                Fail(code, section, i, $"jump target {target} is outside the program (0..{code.Length - 1})");

            var fact = new InstructionFacts(ins, op, false, target);
            if ((fact.Writes & (1 << 10)) != 0)
                Fail(code, section, i, "the frame pointer r10 is read-only");
            CheckStackOffset(code, section, i, fact);
            facts[i] = fact;
            if (op == VmOp.LoadImm64)
            {
                facts[++i] = new InstructionFacts(BpfInstruction.Decode(code[i]), VmOp.WideTail, true, -1);
            }
        }

        for (int i = 0; i < facts.Length; i++)
        {
            int t = facts[i].Target;
            if (t >= 0 && facts[t].IsWideTail) Fail(code, section, i, $"jump target {t} is the second slot of an lddw");
        }
        return facts;
    }

    private static void CheckStackOffset(ulong[] code, string section, int index, InstructionFacts fact)
    {
        var ins = fact.Instruction;
        int baseReg;
        if (fact.Op is >= VmOp.Ldx8 and <= VmOp.Ldxs32) baseReg = ins.Src;
        else if (fact.Op is >= VmOp.St8 and <= VmOp.AtomicCmpXchg64) baseReg = ins.Dst;
        else return;
        if (baseReg != 10) return;
        int size = BpfOpcodes.SizeBytes(ins.Opcode);
        if (ins.Offset < -StackSize || ins.Offset + size > 0)
            Fail(code, section, index, $"stack access [r10{ins.Offset:+0;-0}, {size} bytes] is outside the {StackSize}-byte frame [-{StackSize}, 0)");
    }

    /// <summary>Function entries are instruction 0 and every bpf-to-bpf call target; a function runs to the next entry.</summary>
    private static int[] AssignFunctions(InstructionFacts[] facts, ulong[] code, string section)
    {
        var entries = new SortedSet<int> { 0 };
        foreach (var f in facts)
            if (f.EntersFunction) entries.Add(f.Target);
        int[] functionOf = new int[facts.Length];
        int function = -1;
        for (int i = 0; i < facts.Length; i++)
        {
            if (entries.Contains(i)) function = i;
            functionOf[i] = function;
        }
        return functionOf;
    }

    private static void CheckControlFlow(InstructionFacts[] facts, int[] functionOf, ulong[] code, string section)
    {
        for (int i = 0; i < facts.Length; i++)
        {
            var f = facts[i];
            int n = f.SuccessorCount(i, out int a, out int b);
            for (int k = 0; k < n; k++)
            {
                int s = k == 0 ? a : b;
                bool isFallThrough = !(f.Op == VmOp.Ja) && s == i + f.Width;
                if (s >= facts.Length)
                    Fail(code, section, i, "execution can fall off the end of the program (the last instruction must be exit or a jump back)");
                if (functionOf[s] != functionOf[i])
                    Fail(code, section, i, isFallThrough
                        ? "execution can fall through into the next function (a function must end with exit or a jump)"
                        : $"jump target {s} is in another function (jumps must stay inside their function)");
            }
        }
    }
}
