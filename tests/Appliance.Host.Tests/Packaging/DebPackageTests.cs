using Appliance.TestSupport;
using Xunit;

namespace Appliance.Host.Tests.Packaging;

/// <summary>`./build.sh deb`'s package: built from the published binary, lintian-clean (with the documented
/// overrides in packaging/deb/lintian-overrides), installed into a throw-away Debian 12 root where `meta-appliance
/// validate` runs and `systemd-analyze verify` accepts the unit, then purged.</summary>
[Collection(KernelCollection.Name)]
public sealed class DebPackageTests : IDisposable
{
    private static readonly string Deb = Path.Combine(RepoPaths.Root, "packaging", "deb");
    private readonly string _out = Directory.CreateTempSubdirectory("mapp-deb-").FullName;

    public void Dispose() => Directory.Delete(_out, recursive: true);

    [PrivilegedFact]
    public void ThePackageIsLintianCleanAndInstallsIntoADebian12Root()
    {
        Assert.True(File.Exists(RepoPaths.Binary("linux-x64")), "publish linux-x64 first (./build.sh test does)");
        var build = Shell.Run(Path.Combine(Deb, "build-deb.sh"), "amd64", "--out", _out);
        Assert.True(build.ExitCode == 0, build.StdErr);
        string deb = build.StdOut.Trim();
        Assert.Equal(_out, Path.GetDirectoryName(deb));
        Assert.Matches(@"^meta-appliance_\d+\.\d+\.\d+_amd64\.deb$", Path.GetFileName(deb));

        var lintian = Shell.Run("lintian", "--tag-display-limit", "0", "--display-info", deb);
        var tags = lintian.StdOut.Split('\n').Concat(lintian.StdErr.Split('\n'))
            .Where(l => l.Length > 0 && !l.Contains("root privileges")).ToList();
        Assert.True(lintian.ExitCode == 0 && tags.Count == 0, string.Join('\n', tags));

        var check = Shell.Run(Path.Combine(Deb, "check-install.sh"), deb);
        Assert.True(check.ExitCode == 0, check.StdOut + check.StdErr);
        var sections = Sections(check.StdOut);
        Assert.Contains("Debian GNU/Linux 12", sections["os"]);
        foreach (var path in new[]
                 {
                     "/usr/bin/meta-appliance", "/etc/meta-appliance/config.json", "/lib/systemd/system/meta-appliance.service",
                     "/usr/share/man/man8/meta-appliance.8.gz", "/usr/share/bash-completion/completions/meta-appliance",
                     "/usr/share/meta-appliance/programs/counter.bpf.o", "/usr/share/meta-appliance/examples/qemu-virt.json",
                 })
            Assert.Contains(path + "\n", sections["dpkg -L"]);
        Assert.Contains("/etc/meta-appliance/config.json", sections["conffiles"]);
        Assert.StartsWith("/etc/meta-appliance/config.json: ok\n", sections["validate"]);
        Assert.Equal(Directory.GetFiles(Path.Combine(RepoPaths.Root, "examples"), "*.json").Length,
            sections["validate examples"].Split('\n').Count(l => l.EndsWith(": ok", StringComparison.Ordinal)));
        Assert.Contains("META-APPLIANCE(8)", sections["man"]);
        Assert.Equal("", sections["systemd-analyze verify"]);
        Assert.Contains("Purging configuration files for meta-appliance", sections["remove"]);
    }

    /// <summary>The unit as systemd runs it: a Debian 12 system booted with systemd as PID 1 (systemd-nspawn --boot,
    /// packaging/deb/check-systemd-boot.sh) with the package installed and enabled starts the appliance at boot; it
    /// becomes active only on READY=1 (Type=notify), says what it does in STATUS=, pings the watchdog, answers the
    /// CLI, survives `systemctl reload` without a restart and stops cleanly.</summary>
    [PrivilegedFact]
    public void TheUnitRunsUnderSystemdAsPid1InABootedDebian12()
    {
        Assert.True(File.Exists(RepoPaths.Binary("linux-x64")), "publish linux-x64 first (./build.sh test does)");
        var build = Shell.Run(Path.Combine(Deb, "build-deb.sh"), "amd64", "--out", _out);
        Assert.True(build.ExitCode == 0, build.StdErr);
        string hostIf = "mappb" + Guid.NewGuid().ToString("N")[..8];
        var boot = Shell.RunWithTimeout(TimeSpan.FromMinutes(3), Path.Combine(Deb, "check-systemd-boot.sh"), [build.StdOut.Trim(), hostIf]);
        Assert.True(boot.ExitCode == 0, boot.StdOut + boot.StdErr);
        var s = Sections(boot.StdOut);
        var status = Properties(s["status"]);
        Assert.Equal("notify", status["Type"]);
        Assert.Equal("active", status["ActiveState"]);
        Assert.Equal("running", status["SubState"]);
        Assert.Equal("0", status["NRestarts"]);
        Assert.StartsWith("forwarding (1 ports, 1 pairs)", status["StatusText"]);
        var pings = s["watchdog"].Trim().Split(' ');
        Assert.True(long.Parse(pings[3]) > long.Parse(pings[1]), "a watchdog ping arrived between the two reads: " + s["watchdog"]);
        Assert.Contains("meta-appliance: forwarding (1 ports, 1 pairs)", s["cli"]);
        var reload = Properties(s["reload"]);
        Assert.Equal(("active", "0"), (reload["ActiveState"], reload["NRestarts"]));
        var stop = Properties(s["stop"]);
        Assert.Equal(("inactive", "success"), (stop["ActiveState"], stop["Result"]));
        Assert.Contains("runtime: stopped; everything the appliance created is deleted", s["journal"]);
        Assert.False(Shell.Run("ip", "link", "show", hostIf).ExitCode == 0, "the container's veth is gone");
    }

    private static Dictionary<string, string> Properties(string section) =>
        section.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);

    /// <summary>The verify step can fail: a unit with an unknown key and family is reported.</summary>
    [Fact]
    public void SystemdAnalyzeReportsABrokenUnit()
    {
        var broken = Path.Combine(_out, "meta-appliance.service");
        File.WriteAllText(broken, File.ReadAllText(Path.Combine(Deb, "meta-appliance.service")).Replace("Type=notify", "Type=notify\nBogusKey=1"));
        var r = Shell.Run("systemd-analyze", "verify", broken);
        Assert.Contains("Unknown key 'BogusKey'", r.StdErr);
    }

    private static Dictionary<string, string> Sections(string output)
    {
        var result = new Dictionary<string, string>();
        string? name = null;
        var body = new System.Text.StringBuilder();
        foreach (var line in output.Split('\n'))
        {
            if (line.StartsWith("== ", StringComparison.Ordinal))
            {
                if (name is not null) result[name] = body.ToString();
                name = line[3..];
                body.Clear();
            }
            else if (name is not null && line.Length > 0) body.Append(line).Append('\n');
        }
        if (name is not null) result[name] = body.ToString();
        return result;
    }
}
