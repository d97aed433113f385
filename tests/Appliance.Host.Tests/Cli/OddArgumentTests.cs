using Appliance.TestSupport;
using Xunit;

namespace Appliance.Host.Tests.Cli;

/// <summary>Odd arguments the red-team run found aborting the published binary with an unhandled exception (exit
/// 134): each is now a usage error (2) or a failure (1) that says what is wrong.</summary>
public sealed class OddArgumentTests
{
    public static TheoryData<string[], int, string> Cases() => new()
    {
        // An empty socket path, and one longer than a unix socket address holds (107 bytes): ArgumentException.
        { ["status", "--socket", ""], 1, "cannot use '' as the control socket" },
        { ["stats", "--socket", new string('a', 300)], 1, "as the control socket" },
        // NaN passed the interval's range check (every comparison is false) and TimeSpan.FromSeconds(NaN) threw.
        { ["stats", "--watch", "NaN", "--socket", "/nonexistent/mapp.sock"], 2, "--watch takes an interval of 0.1 to 3600 seconds, not 'NaN'" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void AnOddArgumentIsAClearError(string[] args, int exit, string message)
    {
        var r = Shell.RunWithTimeout(TimeSpan.FromSeconds(30), RepoPaths.Binary("linux-x64"), args);
        Assert.DoesNotContain("Unhandled exception", r.StdErr);
        Assert.True(r.ExitCode == exit, $"exit {r.ExitCode}: {r.StdErr}");
        Assert.Contains(message, r.StdErr);
    }

    private static readonly string Huge = new('x', 100_000); // near the kernel's 128 KiB bound on one argument

    public static TheoryData<string[], string> HugeCases() => new()
    {
        { [Huge], "unknown command 'xxxx" },
        { ["status", "--" + Huge], "unknown option '--xx" },
        { ["stats", "--watch", Huge, "--socket", "/nonexistent/mapp.sock"], "--watch takes an interval of 0.1 to 3600 seconds, not 'xxx" },
        { ["validate", "a.json", Huge], "only one FILE may be given without --diff (got 'a.json' and 'xxx" },
        { ["status", "--socket", "/tmp/" + Huge], "cannot use '/tmp/xxx" },
    };

    /// <summary>A huge argument is echoed cut to its first characters and its length: the error stays a short line
    /// (it was echoed whole: 100,000 characters of usage error).</summary>
    [Theory]
    [MemberData(nameof(HugeCases))]
    public void AHugeArgumentIsEchoedCut(string[] args, string message)
    {
        var r = Shell.RunWithTimeout(TimeSpan.FromSeconds(30), RepoPaths.Binary("linux-x64"), args);
        Assert.DoesNotContain("Unhandled exception", r.StdErr);
        Assert.Contains(message, r.StdErr);
        Assert.Matches(@"…' \(10000[0-9] characters\)", r.StdErr);
        Assert.True(r.StdErr.Length < 4096, $"{r.StdErr.Length} characters of error");
    }
}
