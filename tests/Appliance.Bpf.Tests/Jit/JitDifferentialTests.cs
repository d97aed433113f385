using Appliance.Bpf.Conformance;
using Appliance.Bpf.Jit;
using Xunit;
using Xunit.Abstractions;

namespace Appliance.Bpf.Tests.Jit;

/// <summary>The JIT against the interpreter on thousands of random verifier-valid programs on this machine
/// (<see cref="JitDifferential"/>; the arm64 build of the same check runs under qemu-user in
/// <see cref="Arm64JitTests"/>).</summary>
public sealed class JitDifferentialTests(ITestOutputHelper output)
{
    public const int Programs = 3000;

    [Fact]
    public void JitAndInterpreterAgreeOnRandomPrograms()
    {
        Assert.True(BpfJit.IsSupported, "the JIT supports this machine");
        var report = JitDifferential.Run(Programs, seed: 12);
        output.WriteLine(report.ToString());
        AssertAgreement(report, Programs);
    }

    /// <summary>Each program three times on one VM per engine, on frames and metadata of their own, the last run
    /// compared: the later runs take the VM's shortest entry (compiled code's straight path, which sets only what the
    /// code reads), so a value an earlier run left — a shadow field, a register, the packet's extent — would show.</summary>
    [Fact]
    public void JitAndInterpreterAgreeOnRepeatedRunsOfOneVm()
    {
        const int programs = 1000;
        var report = JitDifferential.Run(programs, seed: 13, runsPerProgram: 3);
        output.WriteLine(report.ToString());
        AssertAgreement(report, programs);
    }

    /// <summary>Every generated program compiled, most passed the verifier, both engines agreed on each, the
    /// programs both finished and faulted, and had accesses both proven and checked (so the comparison covered all).</summary>
    internal static void AssertAgreement(JitDifferential.Report report, int programs)
    {
        Assert.Null(report.JitUnavailable);
        Assert.True(report.Mismatches.Count == 0, $"{report.Mismatches.Count} program(s) differ:\n{string.Join('\n', report.Mismatches.Take(10))}");
        Assert.True(report.Ran >= programs * 9 / 10, $"only {report.Ran} of {programs} generated programs passed the verifier");
        Assert.True(report.Proven > 0 && report.Checked > 0, "the programs should have accesses the verifier proves and accesses it does not");
        Assert.True(report.WithCallbacks > report.Ran / 10, $"only {report.WithCallbacks} of {report.Ran} programs used callbacks (bpf_loop, bpf_for_each_map_elem)");
        Assert.True(report.Faulted > report.Ran / 20 && report.Faulted < report.Ran * 3 / 4,
            $"{report.Faulted} of {report.Ran} faulted: the programs should both finish and fault");
    }
}
