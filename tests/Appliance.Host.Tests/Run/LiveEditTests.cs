using Appliance.Datapath.Links;
using Appliance.Datapath.Tests.Runtime;
using Appliance.Host.Control;
using Appliance.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Appliance.Host.Tests.Run;

/// <summary>The published binary under `run` while its config file is edited: every edit applies by itself (inotify,
/// debounced), tenant A's steady stream (about 2,000 frames/s) loses nothing while pair B comes, changes, gets a
/// rebuilt program and goes and a port comes and goes; `reload --confirm` rolls back unless confirmed, also across a
/// restart; an invalid edit is refused whole and A keeps forwarding.</summary>
[Collection(KernelCollection.Name)]
public sealed class LiveEditTests(ITestOutputHelper output)
{
    private const string MacA = "02:00:00:00:0c:01", MacB = "02:00:00:00:0d:01";

    /// <summary>A <see cref="RunBoard"/> plus what pair B and a second port need, and a config written from parts.</summary>
    private sealed class Rig : IDisposable
    {
        public RunBoard Board { get; } = new();
        public string PairB { get; } = NetNamespace.UniqueInterface("mlb");
        public string NetnsB { get; } = NetNamespace.UniqueName("lveb");
        public string Port2 { get; } = NetNamespace.UniqueInterface("mapp");

        public Rig()
        {
            try
            {
                TestObjects.Build("verdict", Path.Combine(Board.Folder, "verdict.bpf.o"));
                TestObjects.Build("verdict", Path.Combine(Board.Folder, "verdict-drop.bpf.o"), "-DVERDICT=2");
                Shell.Check("ip", "link", "add", Port2, "type", "veth", "peer", "name", "o1", "netns", Board.Outside.Name);
                Shell.Check("ip", "link", "set", Port2, "up");
                Board.Outside.Exec("ip", "link", "set", "o1", "up");
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        /// <summary>The config: port (and port 2), pair A (tenant of the board), pair B when <paramref name="b"/> is
        /// its JSON body's extra members, programs count/allow/verdict (and <paramref name="programs"/>), LED lines
        /// <paramref name="leds"/>.</summary>
        public void Write(string? b = null, bool port2 = false, string aPrimary = "", string programs = "", string leds = "") => File.WriteAllText(Board.ConfigFile, $$"""
            {
              "board": "test",
              "controlSocket": "{{Board.Socket}}",
              "ports": [{ "name": "{{Board.Port}}" }{{(port2 ? $", {{ \"name\": \"{Port2}\", \"unclaimed\": \"drop\" }}" : "")}}],
              "pairs": [{
                "name": "{{Board.Pair}}", "mode": "l2", "uplink": "{{Board.Port}}",
                "tenant": { "netns": "{{Board.TenantNs}}", "interface": "eth0", "mac": "{{MacA}}", "addresses": ["{{RunBoard.TenantAddress}}/24"] }{{aPrimary}}
              }{{(b is null ? "" : $$"""
              , {
                "name": "{{PairB}}", "mode": "l2", "uplink": "{{Board.Port}}",
                "tenant": { "netns": "{{NetnsB}}", "interface": "eth0", "mac": "{{MacB}}" {{b}}
              }
            """)}}],
              "programs": [
                { "name": "count", "object": "counter.bpf.o", "section": "tc" },
                { "name": "allow", "object": "allow_port.bpf.o", "section": "netkit/peer" },
                { "name": "verdict", "object": "verdict.bpf.o", "section": "tc" }{{programs}}
              ],
              "leds": { "lines": [{{leds}}] }
            }
            """);

        public ApplianceProcess Start(params string[] args)
        {
            var app = ApplianceProcess.Start(Board.ConfigFile, Board.Socket, args);
            app.WaitReady();
            return app;
        }

        public SteadyStream StreamToB() => new(Board.Outside.Name, "o0", NetnsB, "eth0",
            Appliance.Config.MacAddress.Parse(MacB).GetBytes(), MetaBoard.InterfaceMac(Board.Outside.Name, "o0"));

        public SteadyStream StreamToA() => new(Board.Outside.Name, "o0", Board.TenantNs, "eth0",
            Appliance.Config.MacAddress.Parse(MacA).GetBytes(), MetaBoard.InterfaceMac(Board.Outside.Name, "o0"));

        public int ReachB(int count = 5, int timeoutMs = FrameProbe.Timeout) =>
            FrameProbe.Exchange(Board.Outside.Name, "o0", NetnsB, "eth0", Appliance.Config.MacAddress.Parse(MacB).GetBytes(),
                MetaBoard.InterfaceMac(Board.Outside.Name, "o0"), count, out _, timeoutMs: timeoutMs).Count;

        public string Status() => Board.Cli("status").StdOut;

        public void Dispose()
        {
            Shell.Run("ip", "link", "del", PairB);
            Shell.Run("ip", "netns", "del", NetnsB);
            Shell.Run("ip", "link", "del", Port2);
            Board.Dispose();
        }
    }

    private static void Until(Func<bool> condition, string what, ApplianceProcess app, int timeoutMs = 10000)
    {
        if (!Eventually.True(condition, timeoutMs)) Assert.Fail($"{what} (not within {timeoutMs} ms)\n{app.Output}");
    }

    [PrivilegedFact]
    public void EditsOfTheFileAloneApplyAndTenantALosesNoFrame()
    {
        using var rig = new Rig();
        rig.Write();
        using var app = rig.Start();
        using var stream = rig.StreamToA();
        Thread.Sleep(300);

        rig.Write(b: "}, \"primary\": { \"chain\": [{ \"program\": \"verdict\" }] }");
        Until(() => rig.Status().Contains(rig.PairB), "pair B appears in status after the edit", app);
        Assert.Equal(5, rig.ReachB());

        rig.Write(b: ", \"mtu\": 1400, \"addresses\": [\"10.61.0.2/24\"] }, \"primary\": { \"policy\": \"drop\", \"scrub\": \"none\", \"chain\": [{ \"program\": \"verdict\" }] }");
        Until(() => Shell.Run("ip", "-n", rig.NetnsB, "addr", "show", "dev", "eth0").StdOut.Contains("10.61.0.2/24 "), "B's new address", app);
        Until(() => rig.Board.Cli("pairs").StdOut.Contains("drop"), "B's primary policy drop", app);
        using (var inside = new LinkManager(rig.NetnsB)) Assert.Equal(1400, inside.Get("eth0").Mtu);
        Assert.Equal(5, rig.ReachB());

        // A rebuilt object under the same name: no config edit at all; the program now drops.
        File.Copy(Path.Combine(rig.Board.Folder, "verdict-drop.bpf.o"), Path.Combine(rig.Board.Folder, "verdict.bpf.o.tmp"));
        File.Move(Path.Combine(rig.Board.Folder, "verdict.bpf.o.tmp"), Path.Combine(rig.Board.Folder, "verdict.bpf.o"), overwrite: true);
        Until(() => rig.ReachB(1, 300) == 0, "B's rebuilt program drops", app);

        rig.Write(b: "}", port2: true);
        Until(() => rig.Status().Contains(rig.Port2), "port 2 claimed", app);
        Assert.True(new LinkManager().Get(rig.Port2).Xdp.IsAttached);
        rig.Write(b: "}");
        Until(() => !rig.Status().Contains(rig.Port2), "port 2 released", app);
        Assert.False(new LinkManager().Get(rig.Port2).Xdp.IsAttached);

        rig.Write();
        Until(() => !NetworkNamespace.Exists(rig.NetnsB), "B's namespace deleted", app);
        Assert.Null(new LinkManager().TryGet(rig.PairB));

        stream.Stop();
        output.WriteLine(stream.ToString());
        output.WriteLine(app.Output);
        Assert.True(stream.Sent >= 2000, stream.ToString());
        Assert.Equal(0, stream.Lost);
        Assert.Equal(0, app.Signal(15));
    }

    [PrivilegedFact]
    public void ReloadConfirmRollsBackUnlessConfirmedAlsoAcrossARestart()
    {
        using var rig = new Rig();
        rig.Write();
        using (var app = rig.Start("--no-watch")) // edits apply only through `reload` here
        {
            rig.Write(b: "}");
            var dry = rig.Board.Cli("reload", "--dry-run");
            Assert.Contains($"create  pair {rig.PairB}", dry.StdOut);
            Assert.DoesNotContain(rig.PairB, rig.Status());

            // reload --confirm 5 without confirm: after 5 s the previous config runs again and is back in the file.
            var applied = rig.Board.Cli("reload", "--confirm", "5");
            Assert.Equal(0, applied.ExitCode);
            Assert.Contains("confirm within 5 s", applied.StdOut);
            Assert.Contains(rig.PairB, rig.Status());
            Assert.Contains("pending confirmation", rig.Status());
            Until(() => !rig.Status().Contains(rig.PairB) && !rig.Status().Contains("pending confirmation"), "rolled back after 5 s", app, 15000);
            Assert.DoesNotContain("pending confirmation", rig.Status());
            Assert.DoesNotContain(rig.PairB, File.ReadAllText(rig.Board.ConfigFile));
            Assert.Contains(rig.PairB, File.ReadAllText(CommitConfirm.UnconfirmedPathFor(rig.Board.ConfigFile)));
            Assert.True(rig.Board.TenantPings(), "A forwards after the rollback");

            // With confirm: the new config stays past its deadline.
            rig.Write(b: "}");
            Assert.Contains("confirm within 5 s", rig.Board.Cli("reload", "--confirm", "5").StdOut);
            Assert.Contains("confirmed", rig.Board.Cli("confirm").StdOut);
            Thread.Sleep(6000);
            Assert.Contains(rig.PairB, rig.Status());
            Assert.Equal(1, rig.Board.Cli("confirm").ExitCode); // nothing waits any more

            // A confirmation that never comes because the appliance stops: the config before the change boots.
            rig.Write();
            Assert.Contains("confirm within 60 s", rig.Board.Cli("reload", "--confirm", "60").StdOut);
            Assert.DoesNotContain(rig.PairB, rig.Status());
            Assert.True(File.Exists(CommitConfirm.PendingPathFor(rig.Board.ConfigFile)));
            Assert.Equal(0, app.Signal(15));
        }
        using (var again = rig.Start("--no-watch"))
        {
            Assert.Contains("was not confirmed", again.StdErr);
            Assert.Contains(rig.PairB, rig.Status());
            Assert.False(File.Exists(CommitConfirm.PendingPathFor(rig.Board.ConfigFile)));
            Assert.Equal(0, again.Signal(15));
        }
    }

    private static bool LedOn(RunBoard board, string name)
    {
        var r = board.Cli("leds", "--json");
        Assert.True(r.ExitCode == 0, $"leds --json: exit {r.ExitCode}: {r.StdErr}");
        return System.Text.Json.JsonDocument.Parse(r.StdOut).RootElement.GetProperty("leds").EnumerateArray()
            .Single(l => l.GetProperty("name").GetString() == name).GetProperty("on").GetBoolean();
    }

    /// <summary>What follows the running config is re-armed after a commit-confirm rollback, as after any reload:
    /// the LEDs' packet counters (pair B, re-created by the rollback, blinks its activity LED again) and carrier
    /// monitor (a port a reload added lights its link LED); the file watcher follows the restored config's program
    /// objects (a rebuilt one named only by it is reloaded); and the rollback's own write of the file is not a new
    /// change waiting for confirmation.</summary>
    [PrivilegedFact]
    public void ARollbackRearmsTheWatcherAndTheLedsForTheRestoredConfig()
    {
        using var rig = new Rig();
        File.Copy(Path.Combine(rig.Board.Folder, "verdict.bpf.o"), Path.Combine(rig.Board.Folder, "spare.bpf.o"));
        const string spare = ", { \"name\": \"spare\", \"object\": \"spare.bpf.o\", \"section\": \"tc\" }";
        const string b = "}, \"primary\": { \"chain\": [{ \"program\": \"spare\" }] }";
        string leds = $"{{ \"name\": \"b\", \"chip\": \"mem\", \"line\": 0, \"trigger\": \"activity:{rig.PairB}\" }}, " +
                      $"{{ \"name\": \"port2\", \"chip\": \"mem\", \"line\": 1, \"trigger\": \"link:{rig.Port2}\" }}";
        void WriteWithB() => rig.Write(b: b, port2: true, programs: spare, leds: leds);

        rig.Write();
        using (var app = rig.Start("--no-watch", "--leds", "memory"))
        {
            WriteWithB();
            Assert.Equal(0, rig.Board.Cli("reload").ExitCode);
            Until(() => LedOn(rig.Board, "port2"), "port 2's link LED, a port the reload added, follows its carrier", app);

            rig.Write();
            Assert.Contains("confirm within 2 s", rig.Board.Cli("reload", "--confirm", "2").StdOut);
            Assert.DoesNotContain(rig.PairB, rig.Status());
            Until(() => rig.Status().Contains(rig.PairB) && !rig.Status().Contains("pending confirmation"), "rolled back to B", app);
            Assert.Equal(5, rig.ReachB());
            using (var toB = rig.StreamToB())
                Until(() => LedOn(rig.Board, "b"), "B's activity LED blinks with B's traffic after the rollback re-created B", app);
            Assert.Equal(0, app.Signal(15));
        }

        WriteWithB();
        using (var app = rig.Start("--leds", "memory", "--confirm-edits", "2"))
        {
            rig.Write();
            Until(() => rig.Status().Contains("pending confirmation"), "the edit waits for confirmation", app);
            Until(() => rig.Status().Contains(rig.PairB) && !rig.Status().Contains("pending confirmation"), "rolled back to B", app);
            Thread.Sleep(2000 + 2 * (int)ConfigFileWatcher.DebounceDelay.TotalMilliseconds); // a confirmation started by the rollback's own write would show now
            Assert.DoesNotContain("pending confirmation", rig.Status());
            Assert.Single(System.Text.RegularExpressions.Regex.Matches(app.StdErr, "rolling back"));

            File.Copy(Path.Combine(rig.Board.Folder, "verdict-drop.bpf.o"), Path.Combine(rig.Board.Folder, "spare.bpf.o.tmp"));
            File.Move(Path.Combine(rig.Board.Folder, "spare.bpf.o.tmp"), Path.Combine(rig.Board.Folder, "spare.bpf.o"), overwrite: true);
            Until(() => rig.ReachB(1, 300) == 0, "the watcher follows spare.bpf.o again: B's rebuilt program drops", app);
            Assert.Equal(0, app.Signal(15));
        }
    }

    /// <summary>The rollback itself re-arms the file watcher: this appliance booted from config.last-good.json (its
    /// config file was invalid), so the rollback has no file text to write back, and no write of the file follows it
    /// that would re-arm the watcher through an ordinary reload. The restored config's program object spare.bpf.o
    /// (named by it only) is followed all the same: rebuilding it starts a reload of the file.</summary>
    [PrivilegedFact]
    public void ARollbackAfterStartingFromTheLastGoodCopyWritesThatCopyBackAndRearmsTheWatcher()
    {
        using var rig = new Rig();
        File.Copy(Path.Combine(rig.Board.Folder, "verdict.bpf.o"), Path.Combine(rig.Board.Folder, "spare.bpf.o"));
        rig.Write(b: "}, \"primary\": { \"chain\": [{ \"program\": \"spare\" }] }",
            programs: ", { \"name\": \"spare\", \"object\": \"spare.bpf.o\", \"section\": \"tc\" }");
        string lastGood = Appliance.Host.Init.ConfigSelection.LastGoodPathFor(rig.Board.ConfigFile);
        File.Move(rig.Board.ConfigFile, lastGood);
        File.WriteAllText(rig.Board.ConfigFile, "{");
        using var app = rig.Start("--confirm-edits", "2");
        Assert.Contains(rig.PairB, rig.Status());

        rig.Write();
        Until(() => rig.Status().Contains("pending confirmation"), "the edit waits for confirmation", app);
        Until(() => rig.Status().Contains(rig.PairB) && !rig.Status().Contains("pending confirmation"), "rolled back to B", app);
        // The running config came from the last good copy: that is what the file holds again, so neither a reload nor
        // a restart brings the unconfirmed edit back.
        Assert.Equal(File.ReadAllText(lastGood), File.ReadAllText(rig.Board.ConfigFile));
        Thread.Sleep(2 * (int)ConfigFileWatcher.DebounceDelay.TotalMilliseconds);
        Assert.DoesNotContain("pending confirmation", rig.Status());

        // The watcher follows the restored config's files: rebuilding B's program starts a reload that applies it
        // (B's rebuilt program drops). B's interface can go in the middle of a probe (ENETDOWN): that is the reload too.
        Assert.Equal(1, rig.ReachB(1));
        File.Copy(Path.Combine(rig.Board.Folder, "verdict-drop.bpf.o"), Path.Combine(rig.Board.Folder, "spare.bpf.o.tmp"));
        File.Move(Path.Combine(rig.Board.Folder, "spare.bpf.o.tmp"), Path.Combine(rig.Board.Folder, "spare.bpf.o"), overwrite: true);
        bool Reloaded()
        {
            if (rig.Status().Contains("pending confirmation")) return true; // the rebuild's reload waits for confirmation too
            try { return rig.ReachB(1, 300) == 0; }
            catch (InvalidOperationException) when (!NetworkNamespace.Exists(rig.NetnsB) || !rig.Status().Contains(rig.PairB)) { return true; }
        }
        Until(Reloaded, "the watcher follows spare.bpf.o: its rebuild starts a reload", app);
        Assert.Equal(0, app.Signal(15));
    }

    [PrivilegedFact]
    public void AnInvalidEditIsRefusedWholeAndTenantAKeepsForwarding()
    {
        using var rig = new Rig();
        rig.Write();
        using var app = rig.Start();
        Assert.True(rig.Board.TenantPings());

        var good = File.ReadAllText(rig.Board.ConfigFile);
        File.WriteAllText(rig.Board.ConfigFile, good[..(good.Length / 2)]); // truncated
        Until(() => rig.Status().Contains("fault (config-reload)"), "status says why", app);
        Assert.Contains("config.json:", rig.Status()); // located: file:line:column
        Assert.True(rig.Board.TenantPings(), "A forwards while the file is broken");

        // A program that the verifier refuses (it calls a helper that does not exist): refused whole, B not added.
        string multiarch = Shell.Check("gcc", "-dumpmachine").Trim();
        var source = Path.Combine(rig.Board.Folder, "unchecked.bpf.c");
        File.WriteAllText(source, """
            #include <linux/bpf.h>
            #include <bpf/bpf_helpers.h>
            static long (*no_such_helper)(void) = (void *)999;
            SEC("tc")
            int unknown(struct __sk_buff *skb) { return no_such_helper(); }
            char LICENSE[] SEC("license") = "GPL";
            """);
        Shell.Check("clang", "-O2", "-g", "-target", "bpf", "-mcpu=v3", "-I", Path.Combine(RepoPaths.Root, "programs/include"),
            "-I", $"/usr/include/{multiarch}", "-c", source, "-o", Path.Combine(rig.Board.Folder, "verdict.bpf.o.new"));
        File.Move(Path.Combine(rig.Board.Folder, "verdict.bpf.o.new"), Path.Combine(rig.Board.Folder, "verdict.bpf.o"), overwrite: true);
        rig.Write(b: "}, \"primary\": { \"chain\": [{ \"program\": \"verdict\" }] }");
        Until(() => rig.Status().Contains("does not verify"), "status says the program does not verify", app);
        Assert.DoesNotContain(rig.PairB, rig.Board.Cli("pairs").StdOut);
        Assert.False(NetworkNamespace.Exists(rig.NetnsB));
        Assert.True(rig.Board.TenantPings(), "A forwards after the refused edit");

        var invalid = Shell.RunWithTimeout(TimeSpan.FromSeconds(30), RepoPaths.Binary("linux-x64"), "validate", rig.Board.ConfigFile);
        Assert.Equal(1, invalid.ExitCode);
        Assert.Contains("does not verify", invalid.StdErr); // validate runs the same check
        Assert.Equal(0, app.Signal(15));
    }

    /// <summary>A named pipe put in place of the config file or of a program object it names (no writer ever comes) is
    /// given up after 5 s and the reload refused, and the control socket keeps answering; the restored file applies
    /// again. Before, the reload blocked in open(2) on the pipe for ever and held every control verb with it (`status`
    /// got no answer).</summary>
    [PrivilegedFact]
    public void ANamedPipeNobodyWritesInPlaceOfTheConfigOrAnObjectIsGivenUpAndTheControlSocketKeepsAnswering()
    {
        using var rig = new Rig();
        rig.Write();
        using var app = rig.Start();
        Assert.True(rig.Board.TenantPings());
        var good = File.ReadAllText(rig.Board.ConfigFile);

        File.Delete(rig.Board.ConfigFile);
        Shell.Check("mkfifo", rig.Board.ConfigFile);
        Until(() => rig.Status().Contains("is a named pipe that gave no end of file within 5 s"), "status says the config is a pipe nobody writes", app, 20000);
        Assert.True(rig.Board.TenantPings(), "A forwards while the config is a pipe");
        File.Delete(rig.Board.ConfigFile);
        File.WriteAllText(rig.Board.ConfigFile, good);
        Until(() => !rig.Status().Contains("fault (config-reload)"), "the restored config applies", app);

        string verdict = Path.Combine(rig.Board.Folder, "verdict.bpf.o");
        File.Move(verdict, verdict + ".kept");
        Shell.Check("mkfifo", verdict);
        Until(() => rig.Status().Contains("is a named pipe that gave no end of file within 5 s"), "status says the object is a pipe nobody writes", app, 20000);
        var reload = rig.Board.Cli("reload");
        Assert.Equal(1, reload.ExitCode);
        Assert.Contains("named pipe", reload.StdErr);
        File.Delete(verdict);
        File.Move(verdict + ".kept", verdict);
        Assert.Equal(0, rig.Board.Cli("reload").ExitCode);
        Assert.DoesNotContain("fault (config-reload)", rig.Status());
        Assert.True(rig.Board.TenantPings());
        Assert.Equal(0, app.Signal(15));
    }
}
