using Appliance.TestSupport;

namespace Appliance.Datapath.Tests.Runtime;

/// <summary>eBPF objects the runtime tests load, built once per test run with clang into a temp folder: the
/// tests' own programs (Programs/*.bpf.c), the Bpf tests' routing_helpers (the fib differential), devmap_mixed
/// (an object with maps of types the appliance does not have), kconfig_values (a .kconfig map) and flow_table (two
/// BPF_F_NO_PREALLOC hashes for 2^24 flows), and the repo's example programs (programs/*.bpf.c).</summary>
public static class TestObjects
{
    private static readonly Lazy<string> Folder = new(Build);

    /// <summary>The folder holding the tests' programs and every example program (NAME.bpf.o for programs/NAME.bpf.c).</summary>
    public static string Directory => Folder.Value;

    private static string Build()
    {
        var dir = Repository.TempFolder("mapp-objects-");
        string repo = RepoRoot();
        string multiarch = Shell.Check("gcc", "-dumpmachine").Trim();
        foreach (var test in new[] { "probe", "trace", "stack_leak", "fib_group", "workers", "big_tables" })
            Compile(Path.Combine(repo, $"tests/Appliance.Datapath.Tests/Programs/{test}.bpf.c"), Path.Combine(dir, $"{test}.bpf.o"), multiarch, repo);
        foreach (var bpfTest in new[] { "routing_helpers", "devmap_mixed", "kconfig_values", "flow_table" })
            Compile(Path.Combine(repo, $"tests/Appliance.Bpf.Tests/TestPrograms/{bpfTest}.bpf.c"), Path.Combine(dir, $"{bpfTest}.bpf.o"), multiarch, repo);
        foreach (var example in System.IO.Directory.GetFiles(Path.Combine(repo, "programs"), "*.bpf.c"))
            Compile(example, Path.Combine(dir, Path.GetFileName(example)[..^".c".Length] + ".o"), multiarch, repo);
        return dir;
    }

    private static void Compile(string source, string output, string multiarch, string repo, params string[] defines) =>
        Shell.Check("clang", ["-O2", "-g", "-target", "bpf", "-mcpu=v3", "-Wall", .. defines, "-I", Path.Combine(repo, "programs/include"),
            "-I", $"/usr/include/{multiarch}", "-c", source, "-o", output]);

    /// <summary>Builds one of the tests' programs (Programs/NAME.bpf.c) with extra clang arguments (e.g. -DX=1).</summary>
    public static void Build(string name, string output, params string[] defines)
    {
        string repo = RepoRoot();
        Compile(Path.Combine(repo, $"tests/Appliance.Datapath.Tests/Programs/{name}.bpf.c"), output, Shell.Check("gcc", "-dumpmachine").Trim(), repo, defines);
    }

    public static string RepoRoot() => Repository.Root;
}
