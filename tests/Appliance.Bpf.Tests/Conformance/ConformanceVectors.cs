using Appliance.TestSupport;

namespace Appliance.Bpf.Tests.Conformance;

/// <summary>Finds the shared vector directory: walk up from the test binary to the directory holding
/// MetaAppliance.sln, then ../shared/conformance/bpf/tests.</summary>
internal static class ConformanceVectors
{
    public static string Directory { get; } = Locate();

    public static IEnumerable<string> All() =>
        System.IO.Directory.EnumerateFiles(Directory, "*.data").OrderBy(p => p, StringComparer.Ordinal);

    private static string Locate()
    {
        string tests = Path.GetFullPath(Path.Combine(Repository.Root, "..", "shared", "conformance", "bpf", "tests"));
        if (System.IO.Directory.Exists(tests)) return tests;
        throw new DirectoryNotFoundException($"conformance vectors not found at {tests} (expected next to the repository)");
    }
}
