namespace Appliance.TestSupport;

/// <summary>The checkout a test runs from, its published output, and scratch folders that do not outlive the
/// test process.</summary>
public static class Repository
{
    /// <summary>The folder holding MetaAppliance.sln, found upwards from the test binary.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>out/ of the checkout, or META_APPLIANCE_OUT when set (build.sh test publishes there first).</summary>
    public static string Out => Environment.GetEnvironmentVariable("META_APPLIANCE_OUT") is { Length: > 0 } o ? o : Path.Combine(Root, "out");

    /// <summary>A new, empty folder under the system's temp folder, named <paramref name="prefix"/> and a random
    /// suffix (never a reused process id's), deleted with everything in it when the test process exits.</summary>
    public static string TempFolder(string prefix)
    {
        string dir = Directory.CreateTempSubdirectory(prefix).FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(dir, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        };
        return dir;
    }

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "MetaAppliance.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("MetaAppliance.sln not found above " + AppContext.BaseDirectory);
    }
}
