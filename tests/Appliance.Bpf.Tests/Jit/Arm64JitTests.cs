using System.Diagnostics;
using Appliance.Bpf.Assembly;
using Appliance.Bpf.Tests.Conformance;
using Xunit;
using Xunit.Abstractions;

namespace Appliance.Bpf.Tests.Jit;

/// <summary>The arm64 JIT, in the NativeAOT arm64 build of the conformance plugin that `./build.sh publish
/// linux-arm64` puts into out/linux-arm64/ (`./build.sh test` publishes first), under qemu-aarch64: every
/// conformance vector through the plugin protocol with <c>--jit</c>, and the random differential against
/// the interpreter.</summary>
public sealed class Arm64JitTests(ITestOutputHelper output)
{
    private static string Plugin
    {
        get
        {
            string fromEnv = Environment.GetEnvironmentVariable("META_APPLIANCE_OUT") ?? "";
            string outDir = fromEnv.Length > 0 ? fromEnv : Path.Combine(RepoRoot(), "out");
            string plugin = Path.Combine(outDir, "linux-arm64", "bpf-conformance-plugin");
            Assert.True(File.Exists(plugin), $"{plugin} is missing: run ./build.sh publish linux-arm64 (./build.sh test does it first)");
            return plugin;
        }
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MetaAppliance.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("MetaAppliance.sln not found");
    }

    private static (int Exit, string Stdout, string Stderr) Qemu(string stdin, params string[] args)
    {
        var start = new ProcessStartInfo("qemu-aarch64-static")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (string a in new[] { "-L", "/usr/aarch64-linux-gnu", Plugin }.Concat(args)) start.ArgumentList.Add(a);
        start.Environment["DOTNET_GCRegionRange"] = "40000000"; // board.md §1.6: cap the GC's reservation under qemu-user
        using var process = Process.Start(start)!;
        process.StandardInput.Write(stdin);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(600_000), "the arm64 plugin did not exit");
        return (process.ExitCode, stdout.Result, stderr);
    }

    [Fact]
    public void EveryConformanceVectorPassesThroughTheArm64Jit()
    {
        var failures = new List<string>();
        int passed = 0, total = 0;
        var vectors = ConformanceVectors.All().Select(ConformanceVector.Parse).ToList();
        Parallel.ForEach(vectors, new ParallelOptions { MaxDegreeOfParallelism = 2 }, vector =>
        {
            ulong[] program = vector.Raw ?? BpfAssembler.Assemble(vector.Assembly);
            string hex = string.Join(' ', program.SelectMany(BitConverter.GetBytes).Select(b => b.ToString("x2")));
            var args = new List<string>();
            if (vector.Memory is { } memory) args.Add(Convert.ToHexString(memory).ToLowerInvariant());
            args.Add("--jit");
            var (exit, stdout, stderr) = Qemu(hex, [.. args]);
            string? failure = exit != 0 ? $"exit {exit}: {stderr.Trim()}"
                : Convert.ToUInt64(stdout.Trim()[2..], 16) is var r0 && r0 != vector.ExpectedResult ? $"r0 = 0x{r0:x}, expected 0x{vector.ExpectedResult:x}" : null;
            lock (failures)
            {
                total++;
                if (failure is null) passed++;
                else failures.Add($"{vector.Name}: {failure}");
            }
        });
        output.WriteLine($"bpf_conformance v4 (arm64 JIT under qemu-aarch64): {passed}/{total} passed");
        Assert.Equal(313, total);
        Assert.True(failures.Count == 0, $"{failures.Count} vector(s) failed:\n{string.Join('\n', failures.Take(30))}");
    }

    [Fact]
    public void JitAndInterpreterAgreeOnRandomProgramsOnArm64()
    {
        var (exit, stdout, stderr) = Qemu("", "--jit-differential", "2000", "34");
        output.WriteLine(stdout);
        Assert.True(exit == 0, $"exit {exit}\n{stdout}\n{stderr}");
        Assert.Matches(@"^(1[89]\d\d|2000) programs ran on both engines .*; 0 differ", stdout.Split('\n')[0]);
    }
}
