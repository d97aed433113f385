using Appliance.Bpf;
using Appliance.Bpf.Helpers;
using Appliance.Bpf.Maps;
using Appliance.Bpf.Objects;
using Appliance.Bpf.Vm;
using Appliance.Config;

namespace Appliance.Datapath.Programs;

/// <summary>The one program-object check of `validate`, `run` and `reload`: the object file exists, the eBPF loader
/// reads it (ELF, BTF, relocations), its maps can be made, and the configured section passes the verifier as the
/// runtime will load it. Sections and map shapes go back to <see cref="ProgramObjectCheck"/> for the config's map
/// contents, so a config that `validate` passes does not fail at `run` over its objects.</summary>
public sealed class ProgramObjectInspector : IProgramObjectInspector
{
    public static readonly ProgramObjectInspector Instance = new();

    public ProgramObjectReport Inspect(string fullPath, string section)
    {
        var exists = FileExistenceInspector.Instance.Inspect(fullPath, section);
        if (exists.Problem is not null) return exists;
        BpfObject elf;
        try
        {
            elf = BpfObjectLoader.Load(ProgramObjectFile.Read(fullPath), fullPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return ProgramObjectReport.Fails($"{fullPath} is not a usable eBPF object: cannot read the object file: {e.Message}");
        }
        catch (BpfLoadException e)
        {
            return ProgramObjectReport.Fails($"{fullPath} is not a usable eBPF object: {e.Message}");
        }
        var maps = new List<BpfMap>(elf.Maps.Count);
        var shapes = new Dictionary<string, ProgramMapShape>(StringComparer.Ordinal);
        foreach (var def in elf.Maps)
        {
            try
            {
                var map = BpfMap.Create(def, Environment.ProcessorCount);
                maps.Add(map);
                shapes[def.Name] = new ProgramMapShape(map.KeySize, map.UserValueSize, map.MaxEntries, map switch
                {
                    UnsupportedMap => BpfMapTypeNames.WhyUnsupported(map.Type),
                    MapOfMaps => "its slots hold maps, which the object's static `.values` fill (a map of maps cannot be filled from the config)",
                    _ when def.FromKernel => "it holds the running kernel's values of the object's __kconfig externs, which the loader fills "
                        + "(libbpf refuses an initial value for it too)",
                    _ => null,
                });
            }
            catch (Exception e) when (e is ArgumentException or NotSupportedException or InvalidOperationException)
            {
                return ProgramObjectReport.Fails($"map \"{def.Name}\" of {fullPath} cannot be made: {e.Message}");
            }
        }
        var sections = elf.Programs.Select(p => p.Section).Distinct().ToArray();
        var image = elf.Programs.FirstOrDefault(p => p.Section == section);
        if (image is not null)
        {
            try
            {
                LoadedProgram.Load(image, maps, LinuxHelperTable.Instance);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                return ProgramObjectReport.Fails($"section \"{section}\" of {fullPath} does not verify: {e.Message}");
            }
        }
        return new ProgramObjectReport(null, sections, shapes);
    }
}
