using Appliance.TestSupport;

namespace Appliance.Config.Tests;

/// <summary>Finds files of the repository (examples, schema) from the test's output folder.</summary>
internal static class RepoPaths
{
    public static string Root => Repository.Root;

    public static string Examples => Path.Combine(Root, "examples");

    public static string Schema => Path.Combine(Root, "config.schema.json");
}
