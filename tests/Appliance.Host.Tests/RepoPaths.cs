using Appliance.TestSupport;

namespace Appliance.Host.Tests;

/// <summary>Where the repository and its published binaries are, seen from a test.</summary>
public static class RepoPaths
{
    public static string Root => Repository.Root;

    /// <summary>out/ (build.sh test publishes there first and exports META_APPLIANCE_OUT).</summary>
    public static string Out => Repository.Out;

    /// <summary>The example eBPF objects build.sh builds from programs/*.bpf.c.</summary>
    public static string Programs => Path.Combine(Out, "programs");

    public static string Binary(string rid) => Path.Combine(Out, rid, "meta-appliance");
}
