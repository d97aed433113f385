using Appliance.TestSupport;
using Xunit;
using System.Text.Json;
using Appliance.Host.Commands;

namespace Appliance.Host.Tests;

/// <summary>`meta-appliance validate`: exit codes, human and JSON output, object-file options.</summary>
public class ValidateCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("mapp-validate-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static string Example(string name) => Path.Combine(RepoPaths.Root, "examples", name);

    private static (int Code, string Out, string Err) Validate(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = ValidateCommand.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private string Write(string relative, string text)
    {
        string path = Path.Combine(_folder, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>A copy of an example with the built example objects where it expects them (validate loads and
    /// verifies them).</summary>
    private string ExampleWithObjects(string name)
    {
        string copy = Write(Path.Combine("examples", name), File.ReadAllText(Example(name)));
        CopyObjects("programs");
        return copy;
    }

    private void CopyObjects(string folder)
    {
        Directory.CreateDirectory(Path.Combine(_folder, folder));
        foreach (var file in Directory.GetFiles(RepoPaths.Programs, "*.bpf.o"))
            File.Copy(file, Path.Combine(_folder, folder, Path.GetFileName(file)), overwrite: true);
    }

    [Fact]
    public void ValidConfigPrintsOkAndASummary()
    {
        string path = ExampleWithObjects("qemu-virt.json");
        var (code, stdout, stderr) = Validate(path);
        Assert.Equal(0, code);
        Assert.Equal($"{path}: ok\nboard qemu-virt: 2 ports, 2 pairs, 5 programs, 5 LEDs (LEDs on); object files loaded and verified\n", stdout.ReplaceLineEndings("\n"));
        Assert.Empty(stderr);
    }

    [Fact]
    public void NoObjectsSkipsTheObjectFiles()
    {
        var (code, stdout, _) = Validate(Example("router.json"), "--no-objects");
        Assert.Equal(0, code);
        Assert.EndsWith("board nanopi-r5s: 3 ports, 3 pairs, 7 programs, 4 LEDs (LEDs on); object files not checked\n", stdout.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void ObjectsFolderIsSearchedByFileName()
    {
        CopyObjects("built");
        var (code, _, stderr) = Validate(Example("rpi4.json"), "--objects", Path.Combine(_folder, "built"));
        Assert.Equal("", stderr);
        Assert.Equal(0, code);
    }

    [Fact]
    public void AnObjectThatIsNoEbpfObjectIsRefusedWhereItIsNamed()
    {
        string path = ExampleWithObjects("rpi4.json");
        Write(Path.Combine("programs", "lpm_acl.bpf.o"), "not an ELF file");
        var (code, _, stderr) = Validate(path);
        Assert.Equal(1, code);
        Assert.Contains(".object: ", stderr);
        Assert.Contains("is not a usable eBPF object", stderr);
    }

    [Fact]
    public void DiffPrintsThePlanFromOneConfigToAnother()
    {
        string running = ExampleWithObjects("qemu-virt.json");
        string next = Write(Path.Combine("examples", "next.json"), File.ReadAllText(running)
            .Replace("\"policy\": \"drop\",", "\"policy\": \"pass\",")
            .Replace("\"02:00:00:00:0b:02\"", "\"02:00:00:00:0b:03\""));
        var (code, stdout, stderr) = Validate("--diff", running, next);
        Assert.Equal("", stderr);
        Assert.Equal(0, code);
        Assert.Contains("change  pair tenant-a: peer policy drop → pass", stdout);
        Assert.Contains("delete  pair tenant-b: re-created", stdout);
        Assert.Contains("create  pair tenant-b", stdout);
        var (same, sameOut, _) = Validate("--diff", running, running);
        Assert.Equal(0, same);
        Assert.Contains("no changes", sameOut);
    }

    /// <summary>A change of settings read at start alone has no step but is no "no changes": the plan notes each for
    /// the next start (before, `--diff` and `reload` said "no changes", and a `jit` change was not even compared).</summary>
    [Fact]
    public void DiffNotesSettingsReadAtStart()
    {
        string running = ExampleWithObjects("qemu-virt.json");
        string next = Write(Path.Combine("examples", "next.json"), File.ReadAllText(running)
            .Replace("\"board\": \"qemu-virt\",", "\"board\": \"qemu-virt\", \"workers\": 1, \"jit\": false,"));
        var (code, stdout, stderr) = Validate("--diff", running, next);
        Assert.Equal("", stderr);
        Assert.Equal(0, code);
        Assert.DoesNotContain("no changes", stdout);
        Assert.Contains("note: workers changes at the next start", stdout);
        Assert.Contains("note: jit changes at the next start", stdout);
    }

    [Fact]
    public void MissingObjectFilesAreErrorsNamingThePath()
    {
        string path = Write(Path.Combine("examples", "rpi4.json"), File.ReadAllText(Example("rpi4.json")));
        var (code, stdout, stderr) = Validate(path);
        Assert.Equal(1, code);
        Assert.Empty(stdout);
        var lines = stderr.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.StartsWith($"{path}:", lines[0]);
        Assert.Contains($": $.programs[0].object: object file not found: {Path.Combine(_folder, "programs", "lpm_acl.bpf.o")} ", lines[0]);
        Assert.Contains($": $.programs[1].object: object file not found: {Path.Combine(_folder, "programs", "allow_port.bpf.o")} ", lines[1]);
    }

    /// <summary>An object the kernel would refuse at load — a call chain past its 8 frames, a map past its size limit —
    /// is an error of the config entry that names it, with the limit in the words.</summary>
    [Theory]
    [InlineData("""
        static __attribute__((noinline)) int f7(int x) { return x * 3; }
        static __attribute__((noinline)) int f6(int x) { return f7(x + 1) + 1; }
        static __attribute__((noinline)) int f5(int x) { return f6(x + 1) + 1; }
        static __attribute__((noinline)) int f4(int x) { return f5(x + 1) + 1; }
        static __attribute__((noinline)) int f3(int x) { return f4(x + 1) + 1; }
        static __attribute__((noinline)) int f2(int x) { return f3(x + 1) + 1; }
        static __attribute__((noinline)) int f1(int x) { return f2(x + 1) + 1; }
        static __attribute__((noinline)) int f0(int x) { return f1(x + 1) + 1; }
        SEC("tc") int count(struct __sk_buff *skb) { return f0(skb->len) & 1; }
        """, "the call stack of 9 frames is too deep", "the kernel allows 8 frames")]
    [InlineData("""
        struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __type(key, __u32); __uint(value_size, 40000); __uint(max_entries, 1); } big SEC(".maps");
        SEC("tc") int count(struct __sk_buff *skb) { return bpf_map_lookup_elem(&big, &(__u32){ 0 }) ? 0 : 2; }
        """, "map 'big' (PercpuArray): a per-CPU value of 40000 bytes", "(PCPU_MIN_UNIT_SIZE)")]
    [InlineData("""
        struct { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, __u32); __type(value, __u64); __uint(max_entries, 1); __uint(map_flags, BPF_F_RDONLY_PROG); } limits SEC(".maps");
        SEC("tc") int count(struct __sk_buff *skb) { __u64 *v = bpf_map_lookup_elem(&limits, &(__u32){ 0 }); if (v) *v = skb->len; return 0; }
        """, "write into map forbidden: a store of 8 bytes at offset 0 of the 8-byte value of map 'limits'", "read-only to programs (BPF_F_RDONLY_PROG)")]
    public void AnObjectPastTheKernelsLimitsIsAnErrorNamingTheLimit(string program, string error, string limit)
    {
        string path = ExampleWithObjects("qemu-virt.json");
        string source = Write(Path.Combine("src", "counter.bpf.c"), "#include \"appliance_bpf.h\"\n" + program + "\nchar LICENSE[] SEC(\"license\") = \"GPL\";\n");
        Shell.Check("clang", "-O2", "-g", "-target", "bpf", "-mcpu=v3", "-I", Path.Combine(RepoPaths.Root, "programs", "include"),
            "-I", $"/usr/include/{Shell.Check("gcc", "-dumpmachine").Trim()}", "-c", source, "-o", Path.Combine(_folder, "programs", "counter.bpf.o"));
        var (code, stdout, stderr) = Validate(path);
        Assert.Equal(1, code);
        Assert.Empty(stdout);
        Assert.Contains("$.programs[2].object: ", stderr);
        Assert.Contains(error, stderr);
        Assert.Contains(limit, stderr);
        Assert.DoesNotContain("(Parameter", stderr);
    }

    [Fact]
    public void InvalidConfigListsEveryErrorOnStderr()
    {
        string path = Write("bad.json", """
            {
              "board": "x",
              "ports": [{ "name": "eth0", "mtu": 20 }],
              "pairs": [{ "name": "t", "mode": "l2", "uplink": "eth9", "tenant": { "netns": "n", "interface": "i" } }]
            }
            """);
        var (code, stdout, stderr) = Validate(path, "--no-objects");
        Assert.Equal(1, code);
        Assert.Empty(stdout);
        Assert.Equal(
            $"{path}:3:38: $.ports[0].mtu: mtu 20 is out of range; expected 68..65535\n" +
            $"{path}:4:52: $.pairs[0].uplink: unknown port \"eth9\" (expected one of: eth0)\n",
            stderr.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void JsonPrintsTheErrorsAsAnArrayOnStdout()
    {
        string path = Write("bad.json", "{ \"board\": \"x\", \"bogus\": true }");
        var (code, stdout, stderr) = Validate(path, "--json", "--no-objects");
        Assert.Equal(1, code);
        Assert.Empty(stderr);
        using var doc = JsonDocument.Parse(stdout);
        var error = Assert.Single(doc.RootElement.EnumerateArray());
        Assert.Equal(path, error.GetProperty("file").GetString());
        Assert.Equal(1, error.GetProperty("line").GetInt32());
        Assert.Equal(17, error.GetProperty("column").GetInt32());
        Assert.Equal("$.bogus", error.GetProperty("jsonPath").GetString());
        Assert.StartsWith("unknown member \"bogus\"", error.GetProperty("message").GetString());
        Assert.Contains("\"message\": \"unknown member \\\"bogus\\\" (", stdout);
    }

    [Fact]
    public void JsonForAValidConfigIsAnEmptyArray()
    {
        var (code, stdout, stderr) = Validate("--json", Example("qemu-virt.json"), "--no-objects");
        Assert.Equal(0, code);
        Assert.Empty(stderr);
        Assert.Equal(JsonValueKind.Array, JsonDocument.Parse(stdout).RootElement.ValueKind);
        Assert.Equal(0, JsonDocument.Parse(stdout).RootElement.GetArrayLength());
    }

    [Fact]
    public void MissingFileIsAnErrorNotAUsageError()
    {
        string path = Path.Combine(_folder, "nope.json");
        var (code, _, stderr) = Validate(path);
        Assert.Equal(1, code);
        Assert.Equal($"{path}:1:1: $: file not found\n", stderr.ReplaceLineEndings("\n"));
    }

    [Theory]
    [InlineData(new string[0], "FILE is missing")]
    [InlineData(new[] { "--json" }, "FILE is missing")]
    [InlineData(new[] { "a.json", "b.json" }, "only one FILE may be given without --diff (got 'a.json' and 'b.json')")]
    [InlineData(new[] { "a.json", "--verbose" }, "unknown option '--verbose'")]
    [InlineData(new[] { "a.json", "--objects" }, "--objects needs DIR")]
    [InlineData(new[] { "a.json", "--objects", "out", "--no-objects" }, "--objects and --no-objects exclude each other")]
    public void UsageErrorsExitWithTwo(string[] args, string problem)
    {
        var (code, stdout, stderr) = Validate(args);
        Assert.Equal(2, code);
        Assert.Empty(stdout);
        Assert.Equal($"meta-appliance validate: {problem}\n{ValidateCommand.Usage}\n", stderr.ReplaceLineEndings("\n"));
    }
}
