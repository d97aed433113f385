using Appliance.Bpf.Elf;

namespace Appliance.Bpf.Objects;

/// <summary>Links one program as libbpf's bpf_object__relocate does: copies the entry function, then
/// appends every subprogram it reaches (once per program) and rewrites each bpf-to-bpf call's imm to
/// the callee's new relative position; `lddw` relocations become kernel-style pseudo map references
/// (src 1 = map, imm = map index; src 2 = global data, imm = map index, next imm = offset) or, against a
/// function, a callback address (src 4, imm = the function's relative position, as a call's). A <c>__kconfig</c>
/// extern's lddw becomes the address of its place in the `.kconfig` map's value (src 2), as libbpf links it.</summary>
public sealed class ProgramLinker
{
    private readonly ElfFile _elf;
    private readonly IReadOnlyDictionary<int, CodeSection> _code;
    private readonly MapLocator _maps;

    public ProgramLinker(ElfFile elf, IReadOnlyDictionary<int, CodeSection> code, MapLocator maps)
    {
        _elf = elf;
        _code = code;
        _maps = maps;
        foreach (var section in code.Values)
            foreach (var relocation in section.Relocations.Values)
                if (relocation.Type == ElfConstants.RelocBpf64_32 && relocation.Symbol.IsUndefined && relocation.Symbol.IsWeak)
                    _weakKfuncs.Add(relocation.Symbol.Name);
    }

    /// <summary>Externs declared <c>__weak</c> that the object calls: kfuncs a program may test for with
    /// <c>bpf_ksym_exists()</c> before calling them.</summary>
    private readonly HashSet<string> _weakKfuncs = [];

    public ulong[] Link(BpfFunction entry) => Link(entry, out _, out _, out _);

    /// <summary>Links <paramref name="entry"/>; <paramref name="functions"/> are the functions its image holds and
    /// where each starts in it (the entry first, at 0, then every sub-program it reaches). <paramref name="refusal"/> says why the program
    /// cannot load although the object can — it uses an extern the object does not define (a kfunc, a __ksym
    /// variable), which libbpf would take from the kernel, or a map of a type the appliance does not have
    /// (a DEVMAP …) — or is null; the object's other programs load. <paramref name="poisoned"/>: calls of a kfunc declared
    /// <c>__weak</c>, with why they cannot run. libbpf leaves such a kfunc unresolved where the kernel lacks it — its
    /// address (<c>bpf_ksym_exists()</c>) is 0 and the call is poisoned — and the appliance has no kfuncs: the address is
    /// 0 here too, so a call guarded by <c>if (bpf_ksym_exists(f))</c> is never reached, and the verifier refuses the
    /// program only where a path reaches one (<see cref="BpfProgramImage.Poisoned"/>).</summary>
    public ulong[] Link(BpfFunction entry, out IReadOnlyList<(BpfFunction Function, int At)> functions, out string? refusal,
        out IReadOnlyDictionary<int, string> poisoned)
    {
        _refusal = null;
        var poison = new Dictionary<int, string>();
        var image = new List<ulong>(entry.Length);
        var placed = new List<(BpfFunction Function, int At)>();
        var positions = new Dictionary<BpfFunction, int>();
        Place(entry, image, placed, positions);

        // `placed` grows while we walk it: each newly reached subprogram is processed in turn.
        for (int p = 0; p < placed.Count; p++)
        {
            var (function, at) = placed[p];
            var code = _code[function.Section.Index];
            for (int i = 0; i < function.Length; i++)
            {
                int source = function.Start + i;
                ulong insn = image[at + i];
                bool hasRelocation = code.Relocations.TryGetValue(source, out var relocation);
                if (hasRelocation && relocation.Type == ElfConstants.RelocBpf64_64)
                {
                    RelocateLoad(image, at + i, function, source, relocation, placed, positions);
                    i++; // the second slot of the lddw
                }
                else if (hasRelocation && relocation.Type == ElfConstants.RelocBpf64_32)
                {
                    if (!InstructionWord.IsPseudoCall(insn))
                        throw Error(function.Section, source, $"R_BPF_64_32 relocation against {relocation.Symbol} on an instruction that is not a bpf-to-bpf call (opcode 0x{InstructionWord.Opcode(insn):x2})");
                    if (relocation.Symbol.IsUndefined && relocation.Symbol.IsWeak)
                    {
                        // A helper call of id 0 in place of the unresolvable call (as libbpf poisons it): never run.
                        image[at + i] = InstructionWord.WithImm(InstructionWord.WithSrc(insn, 0), 0);
                        poison[at + i] = $"{function.Section.Name}+{source}: it calls '{relocation.Symbol.Name}', a kernel function (kfunc) declared __weak, "
                            + "which the appliance does not have (bpf_ksym_exists() gives 0 here, so guard the call with it)";
                        continue;
                    }
                    if (relocation.Symbol.IsUndefined)
                    {
                        Refuse(function.Section, source, $"it calls '{relocation.Symbol.Name}', which the object does not define: a kernel function (kfunc) "
                            + "or a function of another object; the appliance has no kfuncs and links one object file (link objects with bpftool gen object first)");
                        continue;
                    }
                    var targetSection = _elf.SectionAt(relocation.Symbol.SectionIndex, $"call at {function.Section} instruction {source}");
                    long target = (long)(relocation.Symbol.Value / 8) + InstructionWord.Imm(insn) + 1;
                    LinkCall(image, at + i, function, source, targetSection, target, placed, positions);
                }
                else if (hasRelocation && relocation.Type != ElfConstants.RelocBpfNone)
                {
                    throw Error(function.Section, source, $"relocation type {relocation.Type} against {relocation.Symbol} is not supported in code (expected R_BPF_64_64 or R_BPF_64_32)");
                }
                else if (InstructionWord.IsPseudoCall(insn))
                {
                    long target = (long)source + InstructionWord.Imm(insn) + 1;
                    LinkCall(image, at + i, function, source, function.Section, target, placed, positions);
                }
                else if (InstructionWord.Opcode(insn) == InstructionWord.LoadImm64)
                {
                    byte src = InstructionWord.Src(insn);
                    if (src == InstructionWord.PseudoMapFd || src == InstructionWord.PseudoMapValue)
                        throw Error(function.Section, source, $"lddw with src {src} (a map reference) has no relocation, so its map is unknown");
                    i++;
                }
            }
        }
        functions = placed;
        refusal = _refusal;
        poisoned = poison;
        return image.ToArray();
    }

    private string? _refusal;

    /// <summary>Keeps the first reason the program being linked cannot load.</summary>
    private void Refuse(ElfSection section, int index, string why) =>
        _refusal ??= $"{section.Name}+{index}: {why}";

    private void RelocateLoad(List<ulong> image, int at, BpfFunction function, int source, ElfRelocation relocation,
        List<(BpfFunction Function, int At)> placed, Dictionary<BpfFunction, int> positions)
    {
        ulong insn = image[at];
        var sym = relocation.Symbol;
        if (InstructionWord.Opcode(insn) != InstructionWord.LoadImm64)
            throw Error(function.Section, source, $"R_BPF_64_64 relocation against {sym} on an instruction that is not lddw (opcode 0x{InstructionWord.Opcode(insn):x2})");
        if (source + 1 >= function.Start + function.Length)
            throw Error(function.Section, source, "lddw is cut off by the end of its function (its second slot is missing)");
        if (sym.IsUndefined && sym.IsWeak && _weakKfuncs.Contains(sym.Name))
        {
            // bpf_ksym_exists(kfunc): the address of a weak kfunc the kernel lacks is 0 (libbpf), as every kfunc is here.
            image[at] = InstructionWord.WithImm(InstructionWord.WithSrc(insn, 0), 0);
            image[at + 1] = InstructionWord.WithImm(image[at + 1], 0);
            return;
        }
        if (_maps.TryFindKconfig(sym, out int kconfig, out int place))
        {
            // A __kconfig extern: the address of its place in the .kconfig map's value, as libbpf relocates it (clang's
            // addend, always 0, is not added, as libbpf does not add it).
            image[at] = InstructionWord.WithImm(InstructionWord.WithSrc(insn, InstructionWord.PseudoMapValue), kconfig);
            image[at + 1] = InstructionWord.WithImm(image[at + 1], place);
            return;
        }
        if (sym.IsUndefined)
        {
            Refuse(function.Section, source, $"it reads '{sym.Name}', an extern the object does not define (a __ksym kernel symbol, "
                + "which libbpf takes from the running kernel, or a map or variable of another object file); the appliance has no kernel symbols "
                + "and loads one object (link objects into one first: bpftool gen object)");
            return;
        }

        if (_maps.TryFindMap(sym, out int map))
        {
            if (_maps.WhyUnusable(map) is { } why) Refuse(function.Section, source, why);
            image[at] = InstructionWord.WithImm(InstructionWord.WithSrc(insn, InstructionWord.PseudoMapFd), map);
        }
        else if (_maps.TryFindGlobalData(sym, out int data))
        {
            long offset = InstructionWord.Imm(insn) + (long)sym.Value;
            if (offset < 0 || offset > int.MaxValue)
                throw Error(function.Section, source, $"global data offset {offset} of {sym} is out of range");
            image[at] = InstructionWord.WithImm(InstructionWord.WithSrc(insn, InstructionWord.PseudoMapValue), data);
            image[at + 1] = InstructionWord.WithImm(image[at + 1], (int)offset);
        }
        else if (_maps.IsMapSection(sym.SectionIndex))
        {
            throw Error(function.Section, source, $"{sym} is in the maps section but at offset {sym.Value}, where no map starts");
        }
        else
        {
            var section = _elf.SectionAt(sym.SectionIndex, $"{function.Section} instruction {source}");
            if (!section.IsExecutable)
                throw Error(function.Section, source, $"{sym} is in {section}, which is neither a map section nor global data (.data/.rodata/.bss)");
            // The address of a function (a callback): clang's addend is a byte offset into the section.
            long bytes = (long)sym.Value + InstructionWord.Imm(insn);
            if (bytes % 8 != 0) throw Error(function.Section, source, $"the address of {sym}{InstructionWord.Imm(insn):+0;-0} is not on an instruction");
            image[at] = InstructionWord.WithImm(InstructionWord.WithSrc(insn, InstructionWord.PseudoFunc), 0);
            LinkCall(image, at, function, source, section, bytes / 8, placed, positions);
        }
    }

    private void LinkCall(List<ulong> image, int at, BpfFunction caller, int source, ElfSection targetSection, long target,
        List<(BpfFunction Function, int At)> placed, Dictionary<BpfFunction, int> positions)
    {
        if (!_code.TryGetValue(targetSection.Index, out var code))
            throw Error(caller.Section, source, $"call into {targetSection}, which is not an executable section");
        if (target < 0 || target >= code.Instructions.Length)
            throw Error(caller.Section, source, $"call target instruction {target} is outside {targetSection} ({code.Instructions.Length} instructions)");
        var callee = code.FunctionAt((int)target)
            ?? throw Error(caller.Section, source, $"call target instruction {target} of {targetSection} is in no function");
        if (!positions.TryGetValue(callee, out int calleeAt))
            calleeAt = Place(callee, image, placed, positions);
        long relative = calleeAt + (target - callee.Start) - (at + 1);
        image[at] = InstructionWord.WithImm(image[at], (int)relative);
    }

    private int Place(BpfFunction function, List<ulong> image, List<(BpfFunction, int)> placed, Dictionary<BpfFunction, int> positions)
    {
        int at = image.Count;
        var insns = _code[function.Section.Index].Instructions;
        for (int i = 0; i < function.Length; i++) image.Add(insns[function.Start + i]);
        placed.Add((function, at));
        positions[function] = at;
        return at;
    }

    private BpfLoadException Error(ElfSection section, int index, string what) =>
        _elf.Error($"{section} instruction {index}: {what}");
}
