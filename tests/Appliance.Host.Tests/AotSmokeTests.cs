using Appliance.TestSupport;
using Xunit;

namespace Appliance.Host.Tests;

/// <summary>The NativeAOT binaries that `./build.sh test` publishes for both architectures really run:
/// x64 natively, arm64 under qemu-user.</summary>
public sealed class AotSmokeTests
{
    private static Shell.Result RunBinary(string rid, params string[] args)
    {
        var bin = RepoPaths.Binary(rid);
        Assert.True(File.Exists(bin), $"{bin} is missing: run ./build.sh publish {rid} (./build.sh test does it first)");
        if (rid == "linux-x64") return Shell.Run(bin, args);
        // arm64: qemu-user with the cross libc; cap the GC's address-space reservation (board.md §1.6).
        Environment.SetEnvironmentVariable("DOTNET_GCRegionRange", "40000000");
        try
        {
            return Shell.Run("qemu-aarch64-static", ["-L", "/usr/aarch64-linux-gnu", bin, .. args]);
        }
        finally
        {
            Environment.SetEnvironmentVariable("DOTNET_GCRegionRange", null);
        }
    }

    [Theory]
    [InlineData("linux-x64", "x64")]
    [InlineData("linux-arm64", "arm64")]
    public void VersionRuns(string rid, string arch)
    {
        var r = RunBinary(rid, "--version");
        Assert.Equal(0, r.ExitCode);
        Assert.Matches($@"^meta-appliance \d+\.\d+\.\d+.*\({arch},", r.StdOut);
    }

    /// <summary>The board image has no OpenSSL: a binary that links System.Security.Cryptography's OpenSSL shim
    /// aborts at the first hash ("No usable version of libssl was found"). NativeAOT links the shim, and its
    /// libssl names, only when something calls into it.</summary>
    [Theory]
    [InlineData("linux-x64")]
    [InlineData("linux-arm64")]
    public void BinaryDoesNotNeedOpenSsl(string rid)
    {
        var bin = RepoPaths.Binary(rid);
        Assert.True(File.Exists(bin), $"{bin} is missing: run ./build.sh publish {rid} (./build.sh test does it first)");
        var bytes = File.ReadAllBytes(bin);
        Assert.True(bytes.AsSpan().IndexOf("libssl.so"u8) < 0,
            $"{bin} references libssl: something uses System.Security.Cryptography (use System.IO.Hashing or our own code)");
    }

    [Theory]
    [InlineData("linux-x64")]
    [InlineData("linux-arm64")]
    public void UnknownVerbIsAUsageError(string rid)
    {
        var r = RunBinary(rid, "frobnicate");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("unknown command 'frobnicate'", r.StdErr);
    }

    /// <summary>`run --help` (once "unexpected argument") answers from the shared verb table under NativeAOT.</summary>
    [Theory]
    [InlineData("linux-x64")]
    [InlineData("linux-arm64")]
    public void RunAnswersHelp(string rid)
    {
        var r = RunBinary(rid, "run", "--help");
        Assert.Equal(0, r.ExitCode);
        Assert.StartsWith("usage: meta-appliance run --config FILE", r.StdOut);
        Assert.Contains("--xdp-mode auto|native|generic", r.StdOut);
    }

    /// <summary>The real loader and validator under NativeAOT on both architectures: every example config
    /// validates (program objects looked up in out/programs, where build.sh builds them), and a broken one
    /// is reported with its location.</summary>
    [Theory]
    [InlineData("linux-x64")]
    [InlineData("linux-arm64")]
    public void ValidateAcceptsTheExamplesAndLocatesErrors(string rid)
    {
        var objects = Path.Combine(RepoPaths.Root, "out", "programs");
        foreach (var example in Directory.GetFiles(Path.Combine(RepoPaths.Root, "examples"), "*.json"))
        {
            var ok = RunBinary(rid, "validate", example, "--objects", objects);
            Assert.True(ok.ExitCode == 0, $"{example}: exit {ok.ExitCode}\n{ok.StdOut}{ok.StdErr}");
        }
        var bad = Path.Combine(Path.GetTempPath(), $"mapp-smoke-{Environment.ProcessId}-{rid}.json");
        File.WriteAllText(bad, "{\n  \"board\": \"qemu-virt\",\n  \"ports\": [ { \"name\": \"eth0\", \"speed\": 1 } ]\n}\n");
        try
        {
            var r = RunBinary(rid, "validate", bad, "--no-objects");
            Assert.Equal(1, r.ExitCode);
            Assert.Contains($"{bad}:3:", r.StdErr);
            Assert.Contains("$.ports[0].speed", r.StdErr);
        }
        finally
        {
            File.Delete(bad);
        }
    }

    [Fact]
    public void Arm64BinaryIsAnAarch64Elf()
    {
        var bin = RepoPaths.Binary("linux-arm64");
        var header = File.ReadAllBytes(bin).AsSpan(0, 20).ToArray();
        Assert.Equal(new byte[] { 0x7f, (byte)'E', (byte)'L', (byte)'F' }, header[..4]);
        Assert.Equal(183, BitConverter.ToUInt16(header, 18)); // e_machine = EM_AARCH64
    }
}
