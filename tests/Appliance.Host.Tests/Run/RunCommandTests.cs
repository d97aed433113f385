using System.Text.Json;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Host.Tests.Run;

/// <summary>The published binary end to end: `meta-appliance run` on a namespaced board, driven through the CLI
/// verbs over the control socket, stopped by signals.</summary>
[Collection(KernelCollection.Name)]
public sealed class RunCommandTests
{
    [PrivilegedFact]
    public void ABlackholePeerStopsTheTenantUntilAProgramIsAttachedOverTheControlSocket()
    {
        using var board = new RunBoard();
        board.WriteConfig(peerPolicy: "drop");
        using var app = ApplianceProcess.Start(board.ConfigFile, board.Socket);
        app.WaitReady();

        Assert.False(board.TenantPings(), "a blackhole peer policy must stop the tenant");
        var stats = JsonDocument.Parse(Ok(board.Cli("stats", "--json"))).RootElement;
        var peer = stats.GetProperty("pairs")[0].GetProperty("peer");
        Assert.True(peer.GetProperty("drops").GetProperty("policy").GetInt64() > 0, "policy drops counted");
        Assert.Equal(1, peer.GetProperty("revision").GetInt64());

        // bpf_mprog: attach with the current revision works, a stale expected revision is refused.
        Assert.Contains("revision 2", Ok(board.Cli("pairs", "attach", board.Pair, "peer", "count", "--expected-revision", "1")));
        var stale = board.Cli("pairs", "attach", board.Pair, "peer", "allow", "--first", "--expected-revision", "1");
        Assert.Equal(1, stale.ExitCode);
        Assert.Contains("ESTALE", stale.StdErr);

        Assert.True(board.TenantPings(), "with a program attached the policy no longer applies and PASS forwards\n" + app.Output);
        Assert.Contains("count", Ok(board.Cli("pairs")));
        var programs = JsonDocument.Parse(Ok(board.Cli("stats", "--json"))).RootElement.GetProperty("programs");
        var count = programs.EnumerateArray().Single(p => p.GetProperty("name").GetString() == "count");
        // counter observes only (NEXT; as the last program NEXT means PASS): every run let its frame through.
        long runs = count.GetProperty("runs").GetInt64();
        Assert.True(runs >= 2, count.ToString());
        Assert.Equal("jit", count.GetProperty("engine").GetString()); // the default on x86-64
        Assert.Contains("jit", Ok(board.Cli("programs")).Split('\n').Single(l => l.StartsWith("count ", StringComparison.Ordinal)));
        Assert.Equal(runs, count.GetProperty("pass").GetInt64() + count.GetProperty("next").GetInt64());
        string status = Ok(board.Cli("status"));
        Assert.Contains("forwarding (1 ports, 1 pairs)", status);
        // The workers line, and worker 0 owning queue 0 of the port and of the pair's primary end.
        var workersLine = status.Split('\n').Single(l => l.StartsWith("workers: ", StringComparison.Ordinal));
        Assert.Matches(@"^workers: [1-9][0-9]* running \(config: [1-9][0-9]*\)$", workersLine);
        var worker = status.Split('\n').Single(l => l.StartsWith("0 ", StringComparison.Ordinal) && l.Contains("/q0"));
        Assert.Contains($"{board.Port}/q0", worker);
        Assert.Contains($"{board.Pair}/q0", worker);
        // The port's row shows its queues: as many as the workers' table lists sockets of it.
        int portSockets = status.Split('\n').Sum(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Count(c => c.StartsWith($"{board.Port}/q", StringComparison.Ordinal)));
        var portRow = status.Split('\n').Single(l => l.StartsWith(board.Port + " ", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(portSockets > 0);
        Assert.Equal(portSockets.ToString(), portRow[5]); // PORT IFINDEX XDP UNCLAIMED "L2 PAIRS" QUEUES STATE
        // Each worker's share: the per-worker RX of the pair's primary end sums to what stats shows for it.
        int running = int.Parse(workersLine.Split(' ')[1]);
        var perWorker = JsonDocument.Parse(Ok(board.Cli("stats", "--json"))).RootElement;
        var workers = perWorker.GetProperty("workers").EnumerateArray().ToArray();
        Assert.Equal(running, workers.Length);
        // The two verbs are two reads, and the tenant's stack may send between them (neighbour or router
        // solicitations): compare only where the per-worker sum is the same before and after the stats read.
        long SumOfSockets()
        {
            string table = Ok(board.Cli("stats", "--per-worker"));
            Assert.StartsWith("WORKER", table);
            return table.Split('\n').Where(l => l.Contains($" {board.Pair}/q", StringComparison.Ordinal))
                .Sum(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2]));
        }
        long PrimaryRx() => JsonDocument.Parse(Ok(board.Cli("stats", "--json"))).RootElement.GetProperty("ports").EnumerateArray()
            .Single(p => p.GetProperty("name").GetString() == board.Pair).GetProperty("rxPackets").GetInt64();
        bool compared = false;
        for (int attempt = 0; attempt < 20 && !compared; attempt++)
        {
            long before = SumOfSockets(), primaryRx = PrimaryRx(), after = SumOfSockets();
            if (before != after) continue;
            Assert.True(primaryRx > 0);
            Assert.Equal(primaryRx, before);
            compared = true;
        }
        Assert.True(compared, "the pair's primary end never stayed quiet across three reads");

        // Detach again: back to the blackhole policy.
        Ok(board.Cli("pairs", "detach", board.Pair, "peer", "count"));
        Assert.False(board.TenantPings());

        Assert.Equal(0, app.Signal(15));
        Assert.False(RunBoard.LinkExists(board.Pair), "the pair is deleted on SIGTERM");
        Assert.False(board.TenantNamespaceExists, "the tenant namespace the appliance created is deleted");
        Assert.DoesNotContain("xdp", Shell.Check("ip", "link", "show", board.Port));
    }

    /// <summary>`--no-jit` and the config's <c>"jit": false</c> put every program in the interpreter; the datapath
    /// works the same and `programs` says which engine runs each program.</summary>
    [PrivilegedTheory]
    [InlineData("--no-jit")]
    [InlineData("config")]
    public void TheInterpreterRunsEveryProgramWhenTheJitIsOff(string how)
    {
        using var board = new RunBoard();
        board.WriteConfig(peerPolicy: "drop", jit: how == "config" ? false : null);
        using var app = how == "--no-jit" ? ApplianceProcess.Start(board.ConfigFile, board.Socket, "--no-jit") : ApplianceProcess.Start(board.ConfigFile, board.Socket);
        app.WaitReady();
        Ok(board.Cli("pairs", "attach", board.Pair, "peer", "count"));
        Assert.True(board.TenantPings(), "the interpreter runs the attached program and PASS forwards\n" + app.Output);
        var programs = JsonDocument.Parse(Ok(board.Cli("stats", "--json"))).RootElement.GetProperty("programs");
        Assert.All(programs.EnumerateArray(), p => Assert.Equal("interpreter", p.GetProperty("engine").GetString()));
        Assert.True(programs.EnumerateArray().Single(p => p.GetProperty("name").GetString() == "count").GetProperty("runs").GetInt64() >= 2);
        Assert.True(app.StdErrShows("programs run in the interpreter"), app.Output);
        Assert.Equal(0, app.Signal(15));
    }

    [PrivilegedFact]
    public void MapsCanBeDumpedAndEditedWhileRunning()
    {
        using var board = new RunBoard();
        board.WriteConfig(peerPolicy: "pass");
        using var app = ApplianceProcess.Start(board.ConfigFile, board.Socket);
        app.WaitReady();

        Assert.Contains("allowed_ports", Ok(board.Cli("maps")));
        Ok(board.Cli("maps", "update", "allowed_ports", "443", "7"));
        var dump = JsonDocument.Parse(Ok(board.Cli("maps", "dump", "allowed_ports", "--json"))).RootElement.GetProperty("entries");
        Assert.Equal("bb01", dump[0].GetProperty("key").GetString());
        Assert.Equal("0700000000000000", dump[0].GetProperty("value").GetString());
        Ok(board.Cli("maps", "delete", "allowed_ports", "443"));
        Assert.Equal(0, JsonDocument.Parse(Ok(board.Cli("maps", "dump", "allowed_ports", "--json"))).RootElement.GetProperty("entries").GetArrayLength());
        // The bash completion asks this appliance for its names (completion names KIND over the socket).
        string bin = RepoPaths.Binary("linux-x64"), script = Shell.Check(bin, "completion", "bash"), dir = Path.GetDirectoryName(bin)!;
        Assert.Equal([board.Pair], Cli.CommandLineHelpTests.Complete(script, dir, "pairs", "attach", "--socket", board.Socket, ""));
        Assert.Contains("count", Cli.CommandLineHelpTests.Complete(script, dir, "pairs", "attach", board.Pair, "peer", "--socket", board.Socket, ""));
        Assert.Equal(["allowed_ports"], Cli.CommandLineHelpTests.Complete(script, dir, "maps", "dump", "--socket", board.Socket, "allow"));
        var nobody = Shell.Run(bin, "completion", "names", "pair", "--socket", Path.Combine(board.Folder, "nobody.sock"));
        Assert.Equal(1, nobody.ExitCode);
        Assert.Empty(nobody.StdOut);
        var bad = board.Cli("maps", "dump", "no_such_map");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("no map called 'no_such_map'", bad.StdErr);
        // .rodata is frozen once loaded (the verifier judged the program against it): refused, and left as it was.
        var before = Ok(board.Cli("maps", "dump", ".rodata", "--json"));
        var frozen = board.Cli("maps", "update", ".rodata", "0", "0");
        Assert.Equal(1, frozen.ExitCode);
        Assert.Contains("map '.rodata' is read-only", frozen.StdErr);
        Assert.Equal(1, board.Cli("maps", "delete", ".rodata", "0").ExitCode);
        Assert.Equal(before, Ok(board.Cli("maps", "dump", ".rodata", "--json")));
        Assert.Equal(0, app.Signal(2)); // SIGINT stops cleanly too
        Assert.False(RunBoard.LinkExists(board.Pair));
    }

    [PrivilegedFact]
    public void AfterASigkillTheNextStartCleansTheStaleStateAndRuns()
    {
        using var board = new RunBoard();
        board.WriteConfig(peerPolicy: "pass");
        using (var first = ApplianceProcess.Start(board.ConfigFile, board.Socket))
        {
            first.WaitReady();
            first.Signal(9);
        }
        Assert.True(RunBoard.LinkExists(board.Pair), "SIGKILL leaves the pair behind (nothing could clean up)");

        using var second = ApplianceProcess.Start(board.ConfigFile, board.Socket);
        second.WaitReady();
        Assert.True(second.StdErrShows("removed stale state"), second.Output);
        Assert.True(board.TenantPings(), second.Output);
        Assert.Equal(0, second.Signal(15));
        Assert.False(RunBoard.LinkExists(board.Pair));
    }

    [PrivilegedFact]
    public void ReloadAppliesTheDifferenceAndRefusesAnInvalidFile()
    {
        using var board = new RunBoard();
        board.WriteConfig(peerPolicy: "drop");
        using var app = ApplianceProcess.Start(board.ConfigFile, board.Socket);
        app.WaitReady();
        Assert.Contains("no changes", Ok(board.Cli("reload")));

        File.WriteAllText(board.ConfigFile, File.ReadAllText(board.ConfigFile).Replace("\"policy\": \"drop\" }", "\"policy\": \"drop\", \"chain\": [{ \"program\": \"count\" }] }"));
        Assert.Contains($"swap    chain {board.Pair}/peer: (empty) → count", Ok(board.Cli("reload")));
        Assert.Contains("count", Ok(board.Cli("pairs")));
        Assert.True(board.TenantPings(), "the reloaded chain (count: NEXT after the last program = PASS) forwards");

        File.WriteAllText(board.ConfigFile, File.ReadAllText(board.ConfigFile).Replace("\"unclaimed\": \"kernel\"", "\"unclaimed\": \"drop\""));
        Assert.Contains($"change  port {board.Port}: unclaimed kernel → drop", Ok(board.Cli("reload")));
        Assert.True(board.TenantPings(), "a port change leaves the tenant forwarding");

        var text = File.ReadAllText(board.ConfigFile);
        File.WriteAllText(board.ConfigFile, text.Replace("{ \"program\": \"count\" }", "{ \"program\": \"nope\" }"));
        var refused = board.Cli("reload");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("is not valid, the running config stays", refused.StdErr);
        Assert.Contains("nope", refused.StdErr);
        Assert.True(board.TenantPings(), "a refused reload leaves the running config");
        Assert.Equal(0, app.Signal(15));
    }

    [PrivilegedFact]
    public void AnInvalidConfigStartsNothing()
    {
        using var board = new RunBoard();
        File.WriteAllText(board.ConfigFile, """{ "board": "test", "ports": [{ "name": "eth-does-not-exist-x" }], "pairs": 3 }""");
        var r = Shell.RunWithTimeout(TimeSpan.FromSeconds(30), RepoPaths.Binary("linux-x64"), "run", "--config", board.ConfigFile);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("not valid", r.StdErr);
    }

    [PrivilegedFact]
    public void AConfigThatRanHealthyIsTheFallbackForALaterInvalidOne()
    {
        using var board = new RunBoard();
        board.WriteConfig(peerPolicy: "pass");
        var lastGood = Path.Combine(board.Folder, "config.last-good.json");
        using (var first = ApplianceProcess.Start(board.ConfigFile, board.Socket, "--last-good-after", "1"))
        {
            first.WaitReady();
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (!File.Exists(lastGood) && DateTime.UtcNow < deadline) Thread.Sleep(100);
            Assert.True(File.Exists(lastGood), "no last-good copy after 1 s of health\n" + first.Output);
            Assert.Equal(File.ReadAllText(board.ConfigFile), File.ReadAllText(lastGood));
            Assert.True(first.StdErrShows("saved as the last known good config"), first.Output);
            Assert.Equal(0, first.Signal(15));
        }

        File.WriteAllText(board.ConfigFile, File.ReadAllText(board.ConfigFile).Replace("\"policy\": \"pass\"", "\"policy\": \"maybe\""));
        using var second = ApplianceProcess.Start(board.ConfigFile, board.Socket);
        second.WaitReady();
        Assert.True(second.StdErrShows("running the last known good"), second.Output);
        Assert.Contains("config.json:", second.StdErr); // why: the error with its location
        Assert.True(board.TenantPings(), "the last-good config forwards\n" + second.Output);
        Assert.Equal(0, second.Signal(15));
    }

    [PrivilegedFact]
    public void TheLastGoodCopyIsTheConfigThatRanEvenWhenTheFileChangesWhileStarting()
    {
        // The config file is a FIFO that gives its first reader the text with a forwarding peer ("pass") and every
        // later reader one that drops ("drop"): an edit between two reads at start, made deterministic. One read
        // runs "pass" and keeps "pass" as last good; two reads (the text kept, then the file loaded) ran "drop"
        // while last-good kept "pass", a config that never ran.
        using var board = new RunBoard();
        board.WriteConfig(peerPolicy: "pass");
        var ran = File.ReadAllText(board.ConfigFile);
        var edited = ran.Replace("\"policy\": \"pass\"", "\"policy\": \"drop\"");
        Assert.NotEqual(ran, edited);
        File.Delete(board.ConfigFile);
        Assert.Equal(0, Shell.Run("mkfifo", board.ConfigFile).ExitCode);
        using var fifo = new ConfigFifo(board.ConfigFile, ran, edited);
        var lastGood = Path.Combine(board.Folder, "config.last-good.json");
        using (var app = ApplianceProcess.Start(board.ConfigFile, board.Socket, "--last-good-after", "1", "--no-watch"))
        {
            app.WaitReady();
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (!File.Exists(lastGood) && DateTime.UtcNow < deadline) Thread.Sleep(100);
            Assert.True(File.Exists(lastGood), "no last-good copy after 1 s of health\n" + app.Output);
            Assert.Equal(ran, File.ReadAllText(lastGood));
            Assert.True(board.TenantPings(), $"the running config is not the last-good copy's (the file was read {fifo.Reads} times)\n" + app.Output);
            Assert.Equal(0, app.Signal(15));
        }
    }

    /// <summary>Serves <c>first</c> to the first reader of a FIFO and <c>later</c> to every other one, until disposed.</summary>
    private sealed class ConfigFifo : IDisposable
    {
        private readonly string _path;
        private readonly Thread _writer;
        private volatile bool _stop;
        private int _reads;

        public ConfigFifo(string path, string first, string later)
        {
            _path = path;
            _writer = new Thread(() =>
            {
                while (!_stop)
                {
                    using (var w = new FileStream(path, FileMode.Open, FileAccess.Write)) // blocks until a reader opens it
                    {
                        if (_stop) return;
                        var text = System.Text.Encoding.UTF8.GetBytes(Interlocked.Increment(ref _reads) == 1 ? first : later);
                        try { w.Write(text); } catch (IOException) { } // the reader left early
                    }
                    Thread.Sleep(50); // the reader sees end of file before the next open
                }
            }) { IsBackground = true, Name = "config-fifo" };
            _writer.Start();
        }

        public int Reads => Volatile.Read(ref _reads);

        public void Dispose()
        {
            _stop = true;
            // A writer waiting in open() for a reader is released by one (a non-blocking open: no writer needed).
            while (!_writer.Join(200)) Shell.Run("dd", $"if={_path}", "iflag=nonblock", "of=/dev/null", "status=none");
        }
    }

    private static string Ok(Shell.Result r)
    {
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}\nstdout: {r.StdOut}\nstderr: {r.StdErr}");
        return r.StdOut;
    }
}
