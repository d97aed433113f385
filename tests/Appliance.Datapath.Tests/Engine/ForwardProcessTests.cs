using System.Security.Cryptography;
using System.Diagnostics;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Datapath.Tests.Engine;

/// <summary>The published `meta-appliance forward` between two tenant namespaces whose only path is through it:
/// real clients (ping, nc) and the faults (namespace deleted, SIGKILL and restart, a second instance).</summary>
[Collection(KernelCollection.Name)]
public sealed class ForwardProcessTests
{
    private static readonly TimeSpan Ready = TimeSpan.FromSeconds(20);

    private static ForwardProcess Start(ForwardTopology t)
    {
        var p = new ForwardProcess(t.ApplianceNamespace!, t.In, t.Out);
        try
        {
            p.WaitReady(Ready);
            return p;
        }
        catch
        {
            p.Dispose();
            throw;
        }
    }

    private static Shell.Result Ping(ForwardTopology t, int count = 3) =>
        t.NsA.TryExec("ping", "-c", count.ToString(), "-i", "0.2", "-W", "2", ForwardTopology.AddressB);

    private static void AssertPings(ForwardTopology t)
    {
        var r = Ping(t);
        Assert.True(r.ExitCode == 0, $"ping through the appliance failed:\n{r.StdOut}\n{r.StdErr}");
        Assert.Contains("3 received", r.StdOut);
    }

    private static void Stop(ForwardProcess p)
    {
        p.Signal("TERM");
        Assert.True(p.WaitExit(TimeSpan.FromSeconds(15)), "forward did not stop on SIGTERM");
        Assert.True(p.ExitCode == 0, $"forward exited {p.ExitCode}:\n{p.StdOut}\n{p.StdErr}");
    }

    [PrivilegedFact]
    public void Ping_and_a_tcp_transfer_cross_the_appliance_with_checksums_intact()
    {
        using var t = new ForwardTopology(applianceInOwnNamespace: true, withAddresses: true);
        using var fwd = Start(t);
        AssertPings(t);

        string src = Path.Combine(Path.GetTempPath(), $"mapp-tcp-src-{Guid.NewGuid():N}");
        string dst = Path.Combine(Path.GetTempPath(), $"mapp-tcp-dst-{Guid.NewGuid():N}");
        try
        {
            var data = new byte[8 << 20];
            new Random(42).NextBytes(data);
            File.WriteAllBytes(src, data);
            using var server = Process.Start(new ProcessStartInfo("ip", ["netns", "exec", t.NsB.Name, "sh", "-c", $"nc -l -p 5201 > {dst}"]))!;
            Thread.Sleep(300);
            var client = Shell.RunWithTimeout(TimeSpan.FromSeconds(60), "ip", "netns", "exec", t.NsA.Name, "sh", "-c",
                $"for i in 1 2 3 4 5; do nc -N -w 10 {ForwardTopology.AddressB} 5201 < {src} && exit 0; sleep 0.3; done; exit 1");
            Assert.True(client.ExitCode == 0, $"nc client failed: {client.StdErr}");
            Assert.True(server.WaitForExit(30000), "nc server did not finish");
            Assert.Equal(Convert.ToHexString(SHA256.HashData(data)), Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(dst))));
        }
        finally
        {
            File.Delete(src);
            File.Delete(dst);
        }
        Stop(fwd);
        Assert.Contains("RESULT frames clean: ", fwd.StdOut);
        Assert.Contains("leaked=0 violations=0", fwd.StdOut);
        Assert.Contains("XDP native via bpf_link, AF_XDP copy mode", fwd.StdErr);
    }

    [PrivilegedFact]
    public void Killed_with_sigkill_it_starts_again_and_forwards_no_stale_program_blocks_it()
    {
        using var t = new ForwardTopology(applianceInOwnNamespace: true, withAddresses: true);
        using (var first = Start(t))
        {
            AssertPings(t);
            Assert.Contains("prog/xdp", Shell.Check("ip", "-n", t.ApplianceNamespace!, "-d", "link", "show", t.In));
            first.Signal("KILL");
            Assert.True(first.WaitExit(TimeSpan.FromSeconds(10)));
        }
        // The bpf_link died with the process: nothing is left attached.
        Assert.DoesNotContain("prog/xdp", Shell.Check("ip", "-n", t.ApplianceNamespace!, "-d", "link", "show", t.In));
        using var second = Start(t);
        AssertPings(t);
        Stop(second);
    }

    [PrivilegedFact]
    public void A_second_instance_on_the_same_interfaces_fails_fast_with_a_clear_error()
    {
        using var t = new ForwardTopology(applianceInOwnNamespace: true, withAddresses: true);
        using var first = Start(t);
        using var second = new ForwardProcess(t.ApplianceNamespace!, t.In, t.Out);
        Assert.True(second.WaitExit(TimeSpan.FromSeconds(15)), "the second instance hung instead of failing");
        Assert.Equal(1, second.ExitCode);
        Assert.Contains("EBUSY", second.StdErr);
        Assert.Contains($"{t.In} already has an XDP program", second.StdErr);
        AssertPings(t); // the first instance is unharmed
        Stop(first);
    }

    [PrivilegedFact]
    public void The_far_namespace_deleted_the_appliance_reports_it_and_keeps_running()
    {
        using var t = new ForwardTopology(applianceInOwnNamespace: true, withAddresses: true);
        using var fwd = Start(t);
        AssertPings(t);
        t.NsB.Dispose(); // deletes b0, and with it the appliance's fwd-out
        Ping(t); // traffic towards the vanished side (fails)
        EngineHarness.WaitUntil(() => fwd.StdErr.Contains($"({t.Out} queue 0) is down"), TimeSpan.FromSeconds(10), "the port-down report");
        Ping(t);
        Assert.False(fwd.HasExited, $"forward exited after the namespace was deleted:\n{fwd.StdErr}");
        Stop(fwd);
        Assert.Matches($"RESULT {t.In} .*TargetDown=[1-9]", fwd.StdOut);
        Assert.Contains("RESULT frames clean: ", fwd.StdOut);
        Assert.Contains("leaked=0 violations=0", fwd.StdOut);
    }
}
