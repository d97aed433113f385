namespace Appliance.Config.Tests;

/// <summary>Finds files of the repository (examples, schema) from the test's output folder.</summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string Examples => Path.Combine(Root, "examples");

    public static string Schema => Path.Combine(Root, "config.schema.json");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MetaAppliance.sln"))) return dir.FullName;
        throw new InvalidOperationException($"MetaAppliance.sln not found above {AppContext.BaseDirectory}");
    }
}
