using Appliance.TestSupport;
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
            string plugin = Path.Combine(Repository.Out, "linux-arm64", "bpf-conformance-plugin");
            Assert.True(File.Exists(plugin), $"{plugin} is missing: run ./build.sh publish linux-arm64 (./build.sh test does it first)");
            return plugin;
        }
    }

    /// <summary>qemu-user with the cross libc; the GC's address-space reservation capped (board.md §1.6).</summary>
    private static readonly string[] Qemu = ["qemu-aarch64-static", "-L", "/usr/aarch64-linux-gnu"];
    private static readonly Dictionary<string, string> QemuEnvironment = new() { ["DOTNET_GCRegionRange"] = "40000000" };

    [Fact]
    public void EveryConformanceVectorPassesThroughTheArm64Jit()
    {
        var failures = new List<string>();
        int passed = 0, total = 0;
        var vectors = ConformanceVectors.All().Select(ConformanceVector.Parse).ToList();
        string plugin = Plugin;
        Parallel.ForEach(vectors, new ParallelOptions { MaxDegreeOfParallelism = 2 }, vector =>
        {
            string? failure = PluginProcess.Check(vector, plugin, jit: true, Qemu, QemuEnvironment);
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
        var (exit, stdout, stderr) = PluginProcess.Run(Plugin, "", ["--jit-differential", "2000", "34"], Qemu, QemuEnvironment);
        output.WriteLine(stdout);
        Assert.True(exit == 0, $"exit {exit}\n{stdout}\n{stderr}");
        Assert.Matches(@"^(1[89]\d\d|2000) programs ran on both engines .*; 0 differ", stdout.Split('\n')[0]);
    }

    /// <summary>The repeated-run differential (see <see cref="JitDifferentialTests.JitAndInterpreterAgreeOnRepeatedRunsOfOneVm"/>)
    /// on arm64: each program three times on one VM per engine, the last run compared (seed 13 as on x86-64: its programs
    /// 445 and 557 differ when the straight path skips writing the shadow's metadata group).</summary>
    [Fact]
    public void JitAndInterpreterAgreeOnRepeatedRunsOfOneVmOnArm64()
    {
        var (exit, stdout, stderr) = PluginProcess.Run(Plugin, "", ["--jit-differential", "1000", "13", "3"], Qemu, QemuEnvironment);
        output.WriteLine(stdout);
        Assert.True(exit == 0, $"exit {exit}\n{stdout}\n{stderr}");
        Assert.Matches(@"^(9\d\d|1000) programs ran on both engines .*; 0 differ", stdout.Split('\n')[0]);
    }
}
