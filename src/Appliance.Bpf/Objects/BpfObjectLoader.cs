using System.Text;
using Appliance.Bpf.Btf;
using Appliance.Bpf.Elf;
using Appliance.Bpf.Maps;

namespace Appliance.Bpf.Objects;

/// <summary>Turns a clang-built BPF object file into a <see cref="BpfObject"/>: maps (BTF `.maps`,
/// legacy `maps`, global data, then `.kconfig`, in that order, as libbpf numbers them), and one linked
/// <see cref="BpfProgramImage"/> per function of every executable section except `.text` (whose
/// functions are subprograms). Every failure is a <see cref="BpfLoadException"/>.</summary>
public static class BpfObjectLoader
{
    public const string SubprogramSection = ".text";

    public static BpfObject Load(string path)
    {
        byte[] image;
        try
        {
            image = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new BpfLoadException($"{path}: cannot read the object file: {e.Message}");
        }
        return Load(image, path);
    }

    /// <param name="kernel">Whose values <c>__kconfig</c> externs take: the running kernel's unless given.</param>
    public static BpfObject Load(byte[] image, string name, RunningKernel? kernel = null)
    {
        var elf = ElfFile.Parse(image, name);
        var maps = new List<DeclaredMap>();
        var locator = new MapLocator();

        var btfSection = elf.FindSection(".BTF");
        BtfTypes? btf = btfSection is null ? null : BtfTypes.Parse(elf.Data(btfSection), name);
        foreach (var sec in elf.Sections)
        {
            if (sec.Name != ".maps") continue;
            if (btf is null)
                throw elf.Error($"{sec} declares BTF-defined maps but the object has no .BTF section; compile with clang -g");
            foreach (var m in BtfMapReader.Read(btf, elf, sec)) Add(elf, maps, locator, m, global: false);
        }
        foreach (var sec in elf.Sections)
            if (LegacyMapReader.IsLegacyMapSection(sec))
                foreach (var m in LegacyMapReader.Read(elf, sec)) Add(elf, maps, locator, m, global: false);
        foreach (var sec in elf.Sections)
            if (GlobalDataMaps.IsGlobalDataSection(sec) && sec.Size > 0)
                Add(elf, maps, locator, GlobalDataMaps.Create(elf, sec), global: true);
        var (kconfig, kconfigSize) = KconfigExterns.Collect(elf, btf);
        if (kconfig.Count > 0)
        {
            var map = KconfigMap.Create(elf, kconfig, kconfigSize, kernel ?? RunningKernel.Current());
            CheckName(elf, maps, map);
            locator.AddKconfig(kconfig, maps.Count);
            maps.Add(map);
        }

        var code = new Dictionary<int, CodeSection>();
        var codeByName = new Dictionary<string, ElfSection>(StringComparer.Ordinal);
        foreach (var sec in elf.Sections)
            if (sec.IsExecutable && sec.Size > 0)
            {
                // Programs, CO-RE records and the config name a code section by its name: it must name one.
                if (!codeByName.TryAdd(sec.Name, sec))
                    throw elf.Error($"two executable sections are named '{sec.Name}' (#{codeByName[sec.Name].Index} and #{sec.Index})");
                code[sec.Index] = CodeSection.Read(elf, sec);
            }

        var coreFailures = elf.FindSection(".BTF.ext") is { } btfExt && btf is not null
            ? CoreRelocations.Apply(elf.Data(btfExt), btf, code.Values.ToDictionary(c => c.Section.Name), name)
            : [];

        var globalFunctions = btf is not null && elf.FindSection(".BTF.ext") is not null ? GlobalFunctions.Read(btf) : new Dictionary<string, int>();
        var linker = new ProgramLinker(elf, code, locator);
        var programs = new List<BpfProgramImage>();
        foreach (var section in code.Values)
        {
            if (section.Section.Name == SubprogramSection) continue;
            foreach (var function in section.Functions)
            {
                var linked = linker.Link(function, out var functions, out var unlinked, out var weakCalls);
                var poisoned = Poisoned(coreFailures, functions);
                foreach (var (index, why) in weakCalls) poisoned.TryAdd(index, why);
                programs.Add(new BpfProgramImage(function.Name, section.Section.Name, linked)
                {
                    Refusal = unlinked, Poisoned = poisoned,
                    GlobalFunctions = functions.Skip(1).Where(f => globalFunctions.ContainsKey(f.Function.Name))
                        .ToDictionary(f => f.At, f => globalFunctions[f.Function.Name]),
                });
            }
        }
        if (programs.Count == 0)
            throw elf.Error("no programs: the object has no executable section other than .text (use SEC(\"tc\"), SEC(\"netkit/peer\") …)");

        var definitions = new List<BpfMapDefinition>(maps.Count);
        foreach (var m in maps)
        {
            var def = WithLibbpfDefaults(m.Definition);
            definitions.Add(def.InitialProgramNames.Count == 0 ? def : WithInitialPrograms(elf, def, programs));
        }
        return new BpfObject(name, programs, definitions, ReadLicense(elf));
    }

    /// <summary>The instructions of a linked program (its entry or a sub-program it calls) whose CO-RE relocation
    /// failed, with why: libbpf poisons them, and the verifier refuses the program only where a path reaches one.</summary>
    private static Dictionary<int, string> Poisoned(List<CoreFailure> failures, IReadOnlyList<(BpfFunction Function, int At)> functions)
    {
        var poisoned = new Dictionary<int, string>();
        foreach (var failure in failures)
            foreach (var (f, at) in functions)
                if (f.Section.Name == failure.Section && f.Contains(failure.Index))
                    poisoned.TryAdd(at + failure.Index - f.Start,
                        failure.Reason + (f.Section.Name == SubprogramSection ? $" (in the sub-program {f.Name}, which it calls)" : ""));
        return poisoned;
    }

    /// <summary>What libbpf fills in when it creates the map: a PERF_EVENT_ARRAY declared without max_entries (the
    /// usual declaration of a perf buffer) gets one entry per possible CPU, also as a map of maps' inner template
    /// (libbpf creates the template as a map first, with the same default).</summary>
    private static BpfMapDefinition WithLibbpfDefaults(BpfMapDefinition def)
    {
        if (def.InnerMap is { } inner) def = def with { InnerMap = WithLibbpfDefaults(inner) };
        return def.Type == BpfMapType.PerfEventArray && def.MaxEntries == 0 ? def with { MaxEntries = PossibleCpus.Count } : def;
    }

    /// <summary>A prog array's static slots (libbpf's <c>.values = { [i] = &amp;prog }</c>) as program indices.</summary>
    private static BpfMapDefinition WithInitialPrograms(ElfFile elf, BpfMapDefinition def, List<BpfProgramImage> programs)
    {
        var slots = new List<(int, int)>();
        foreach (var (slot, name) in def.InitialProgramNames)
        {
            int index = programs.FindIndex(p => p.Name == name);
            if (index < 0)
                throw elf.Error($"map '{def.Name}': `values` slot {slot} names '{name}', which is not a program of the object (a sub-program of .text cannot be a tail call target)");
            slots.Add((slot, index));
        }
        return def with { InitialPrograms = slots, InitialProgramNames = [] };
    }

    private static void Add(ElfFile elf, List<DeclaredMap> maps, MapLocator locator, DeclaredMap map, bool global)
    {
        CheckName(elf, maps, map);
        foreach (var existing in maps)
            if (!global && existing.SectionIndex == map.SectionIndex && existing.Offset == map.Offset)
                throw elf.Error($"maps '{existing.Definition.Name}' and '{map.Definition.Name}' start at the same offset {map.Offset}");
        if (global) locator.AddGlobalData(map, maps.Count);
        else locator.AddMap(map, maps.Count);
        maps.Add(map);
    }

    private static void CheckName(ElfFile elf, List<DeclaredMap> maps, DeclaredMap map)
    {
        foreach (var existing in maps)
            if (existing.Definition.Name == map.Definition.Name)
                throw elf.Error($"two maps are named '{map.Definition.Name}'");
    }

    /// <summary>The `license` section's string (up to its NUL), or "" when the object has none.</summary>
    private static string ReadLicense(ElfFile elf)
    {
        var sec = elf.FindSection("license");
        if (sec is null) return "";
        var data = elf.Data(sec);
        int end = data.IndexOf((byte)0);
        return Encoding.ASCII.GetString(end < 0 ? data : data[..end]);
    }
}
