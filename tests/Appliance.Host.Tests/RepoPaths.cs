namespace Appliance.Host.Tests;

/// <summary>Where the repository and its published binaries are, seen from a test.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>out/ (build.sh test publishes there first and exports META_APPLIANCE_OUT).</summary>
    public static string Out => Environment.GetEnvironmentVariable("META_APPLIANCE_OUT") is { Length: > 0 } o ? o : Path.Combine(Root, "out");

    /// <summary>The example eBPF objects build.sh builds from programs/*.bpf.c.</summary>
    public static string Programs => Path.Combine(Out, "programs");

    public static string Binary(string rid) => Path.Combine(Out, rid, "meta-appliance");

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "MetaAppliance.sln"))) return d.FullName;
        throw new InvalidOperationException("MetaAppliance.sln not found above " + AppContext.BaseDirectory);
    }
}
