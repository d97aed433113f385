namespace Appliance.Config;

/// <summary>The inspector `validate` uses without the eBPF loader: the object file must exist and be a file.</summary>
public sealed class FileExistenceInspector : IProgramObjectInspector
{
    public static readonly FileExistenceInspector Instance = new();

    public ProgramObjectReport Inspect(string fullPath, string section)
    {
        if (Directory.Exists(fullPath)) return ProgramObjectReport.Fails($"object path {fullPath} is a directory; expected an eBPF object file (.o)");
        if (!File.Exists(fullPath))
            return ProgramObjectReport.Fails($"object file not found: {fullPath} (paths are relative to the config file; build the programs or fix the path, or give --objects DIR to look them up by file name, e.g. --objects out/programs)");
        return ProgramObjectReport.ExistsOnly;
    }
}
