namespace Appliance.Config;

/// <summary>Where a program's object file is: relative to the config file's folder, or by file name in an override folder.</summary>
public static class ProgramObjectPaths
{
    /// <param name="configDirectory">Folder of the config file.</param>
    /// <param name="objectDirectory">When set, the object is looked up by its file name in this folder instead (e.g. out/programs).</param>
    public static string Resolve(ProgramConfig program, string configDirectory, string? objectDirectory = null) =>
        objectDirectory is not null
            ? Path.GetFullPath(Path.Combine(objectDirectory, Path.GetFileName(program.Object)))
            : Path.GetFullPath(Path.Combine(configDirectory, program.Object));
}
