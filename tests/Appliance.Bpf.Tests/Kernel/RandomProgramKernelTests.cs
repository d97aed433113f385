using Appliance.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Appliance.Bpf.Tests.Kernel;

/// <summary>Random tc programs against the kernel (<see cref="RandomKernelDifferential"/>): what the kernel's verifier
/// accepts ours accepts, and where both accept, the interpreter and the JIT compute what the kernel computes. A longer
/// campaign: META_KERNEL_DIFF_PROGRAMS (count) and META_KERNEL_DIFF_SEED, e.g.
/// <c>META_KERNEL_DIFF_PROGRAMS=20000 META_KERNEL_DIFF_SEED=7 taskset -c 0 dotnet test tests/Appliance.Bpf.Tests -c Release --filter FullyQualifiedName~RandomProgramKernelTests</c>.</summary>
[Collection(KernelCollection.Name)]
public sealed class RandomProgramKernelTests(ITestOutputHelper output)
{
    public const int Programs = 600;

    [PrivilegedFact]
    public void KernelAndEngineAgreeOnRandomPrograms()
    {
        int programs = int.TryParse(Environment.GetEnvironmentVariable("META_KERNEL_DIFF_PROGRAMS"), out int n) ? n : Programs;
        int seed = int.TryParse(Environment.GetEnvironmentVariable("META_KERNEL_DIFF_SEED"), out int s) ? s : 5;
        var report = RandomKernelDifferential.Run(programs, seed);
        output.WriteLine($"seed {seed}: {report}");
        foreach (var d in report.TooStrict.Concat(report.Differences).Take(20).Concat(report.KernelRefused)) output.WriteLine(d);
        Assert.True(report.TooStrict.Count == 0,
            $"{report.TooStrict.Count} program(s) the kernel accepts and ours refuses:\n{string.Join('\n', report.TooStrict.Take(5))}");
        Assert.True(report.Differences.Count == 0,
            $"{report.Differences.Count} program(s) both accept run differently:\n{string.Join('\n', report.Differences.Take(5))}");
    }
}
