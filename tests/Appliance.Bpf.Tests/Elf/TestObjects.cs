using Appliance.Bpf.Objects;
using Appliance.TestSupport;

namespace Appliance.Bpf.Tests.Elf;

/// <summary>The example programs (programs/*.bpf.c) and the loader's test programs (TestPrograms/*.bpf.c),
/// compiled once per test run with programs/Makefile (clang -O2 -g -target bpf -mcpu=v3) into a
/// private temporary folder, so tests always see objects built from the current sources.</summary>
public static class TestObjects
{
    public static readonly string[] Examples = ["allow_port", "counter", "vlan_tag", "rewrite", "redirect_map", "lpm_acl"];

    private static readonly Lazy<string> Built = new(Build, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string RepoRoot => Repository.Root;

    public static string ExamplePath(string name) => Path.Combine(Built.Value, "programs", name + ".bpf.o");

    /// <summary>The example built for an older instruction set (-mcpu=v1 or v2).</summary>
    public static string ExamplePath(string name, string cpu) => Path.Combine(Built.Value, "programs-" + cpu, name + ".bpf.o");

    public static string TestProgramPath(string name) => Path.Combine(Built.Value, "test", name + ".bpf.o");

    /// <summary>The corpus (Corpus/*.bpf.c), built with -mcpu=v2 and v3.</summary>
    public static readonly string[] CorpusCpus = ["v2", "v3"];

    public static string CorpusPath(string name, string cpu) => Path.Combine(Built.Value, "corpus-" + cpu, name + ".bpf.o");

    public static BpfObject LoadExample(string name) => BpfObjectLoader.Load(ExamplePath(name));

    public static BpfObject LoadTestProgram(string name) => BpfObjectLoader.Load(TestProgramPath(name));

    public static byte[] ExampleBytes(string name) => File.ReadAllBytes(ExamplePath(name));

    /// <summary>Compiles <paramref name="source"/> (a test's own program; programs/include is on the include path) into
    /// <paramref name="dir"/> as the examples are built, and returns the object's path.</summary>
    public static string Compile(string dir, string source)
    {
        string c = Path.Combine(dir, "test.bpf.c"), obj = Path.Combine(dir, "test.bpf.o");
        File.WriteAllText(c, source);
        string multiarch = Shell.Run("gcc", "-dumpmachine").StdOut.Trim();
        var cc = Shell.Run("clang", "-O2", "-g", "-target", "bpf", "-I" + Path.Combine(RepoRoot, "programs", "include"),
            "-I/usr/include/" + multiarch, "-c", c, "-o", obj);
        if (cc.ExitCode != 0) throw new InvalidOperationException($"clang failed: {cc.StdErr}");
        return obj;
    }

    private static string Build()
    {
        var dir = Repository.TempFolder("mapp-bpf-objects-");
        var programs = Path.Combine(RepoRoot, "programs");
        Shell.Check("make", "-s", "-C", programs, "OUT=" + Path.Combine(dir, "programs"));
        foreach (var cpu in new[] { "v1", "v2" })
            Shell.Check("make", "-s", "-C", programs, "MCPU=" + cpu, "OUT=" + Path.Combine(dir, "programs-" + cpu));
        Shell.Check("make", "-s", "-C", programs, "OUT=" + Path.Combine(dir, "test"),
            "SRC=" + Path.Combine(RepoRoot, "tests", "Appliance.Bpf.Tests", "TestPrograms"));
        // CO-RE programs include vmlinux.h: generated from the running kernel's BTF, never committed.
        var btfInclude = Path.Combine(dir, "btf");
        Directory.CreateDirectory(btfInclude);
        var vmlinux = Shell.Run("bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "c");
        if (vmlinux.ExitCode != 0) throw new InvalidOperationException($"bpftool btf dump failed: {vmlinux.StdErr}");
        File.WriteAllText(Path.Combine(btfInclude, "vmlinux.h"), vmlinux.StdOut);
        foreach (var cpu in CorpusCpus)
            Shell.Check("make", "-s", "-C", programs, "MCPU=" + cpu, "OUT=" + Path.Combine(dir, "corpus-" + cpu),
                "SRC=" + Path.Combine(RepoRoot, "tests", "Appliance.Bpf.Tests", "Corpus"), "EXTRA_CFLAGS=-I" + btfInclude);
        return dir;
    }
}
