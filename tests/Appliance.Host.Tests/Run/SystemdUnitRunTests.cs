using Appliance.Host.Tests.Service;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Host.Tests.Run;

/// <summary>The .deb's systemd unit's ExecStart command line, run as systemd would run it (NOTIFY_SOCKET and
/// WATCHDOG_USEC set) on a namespaced board, with the test reading the notify socket: STATUS lines, READY=1 once
/// forwarding, WATCHDOG=1 pings, ExecReload's effect, STOPPING=1 on SIGTERM.</summary>
[Collection(KernelCollection.Name)]
public sealed class SystemdUnitRunTests
{
    private static readonly string Unit = Path.Combine(RepoPaths.Root, "packaging", "deb", "meta-appliance.service");

    /// <summary>A unit line's words, the installed binary and config replaced by the published binary and the board's config.</summary>
    private static string[] UnitCommand(string key, RunBoard board)
    {
        var line = File.ReadLines(Unit).Single(l => l.StartsWith(key + "=", StringComparison.Ordinal))[(key.Length + 1)..];
        var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("/usr/bin/meta-appliance", words[0]);
        return [RepoPaths.Binary("linux-x64"), .. words[1..].Select(w => w == "/etc/meta-appliance/config.json" ? board.ConfigFile : w),
            "--socket", board.Socket]; // the unit's socket is /run/meta-appliance/control.sock; the test keeps its own
    }

    [PrivilegedFact]
    public void TheUnitsCommandLineNotifiesReadyStatusAndWatchdog()
    {
        using var board = new RunBoard();
        board.WriteConfig(peerPolicy: "pass");
        using var listener = NotifyListener.Bind(Path.Combine(board.Folder, "notify.sock"));
        var env = new Dictionary<string, string>
        {
            ["NOTIFY_SOCKET"] = Path.Combine(board.Folder, "notify.sock"),
            ["WATCHDOG_USEC"] = "400000", // pings every 0.2 s
        };
        using var app = ApplianceProcess.Start(UnitCommand("ExecStart", board), board.Socket, env);

        var before = new List<string>();
        string? m;
        while ((m = listener.Receive(TimeSpan.FromSeconds(30))) is not null && !m.StartsWith("READY=1", StringComparison.Ordinal)) before.Add(m);
        Assert.True(m is not null, $"no READY=1 (got {string.Join(" | ", before)})\n{app.Output}");
        Assert.Equal("READY=1\nSTATUS=forwarding (1 ports, 1 pairs), config ok", m);
        Assert.Equal([$"STATUS=reading {board.ConfigFile}", "STATUS=starting the datapath"], before);
        Assert.True(board.TenantPings(), "READY=1 came once frames flow\n" + app.Output);

        int pings = 0;
        while (pings < 3 && listener.Receive(TimeSpan.FromSeconds(10)) is { } ping)
        {
            Assert.Equal("WATCHDOG=1", ping);
            pings++;
        }
        Assert.Equal(3, pings);

        // ExecReload, as the unit has it (its socket option added like ExecStart's).
        var reload = UnitCommand("ExecReload", board);
        var r = Shell.Run(reload[0], reload[1..]);
        Assert.True(r.ExitCode == 0, r.StdErr);
        string? status;
        while ((status = listener.Receive(TimeSpan.FromSeconds(10))) == "WATCHDOG=1") { }
        Assert.Equal("STATUS=forwarding; reloaded (control socket)", status);

        Assert.Equal(0, app.Signal(15));
        string? last;
        while ((last = listener.Receive(TimeSpan.FromSeconds(5))) == "WATCHDOG=1") { }
        Assert.Equal("STOPPING=1\nSTATUS=stopping", last);
    }
}
