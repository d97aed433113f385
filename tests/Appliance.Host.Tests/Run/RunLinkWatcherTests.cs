using System.Text.Json;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Host.Tests.Run;

/// <summary>`meta-appliance run` watches the links of its namespace with one thread and one rtnetlink socket, shared by
/// its three followers: the port carrier (the link LED), the pairs' carrier (`status --json`) and the forwarding
/// engine's deleted interfaces (the worker marks a deleted port down, in the log).</summary>
[Collection(KernelCollection.Name)]
public sealed class RunLinkWatcherTests
{
    /// <summary>Thread names (comm) of process <paramref name="pid"/>; Linux keeps their first 15 characters.</summary>
    private static List<string> ThreadNames(int pid) =>
        [.. Directory.GetDirectories($"/proc/{pid}/task").Select(t => File.ReadAllText(Path.Combine(t, "comm")).TrimEnd('\n'))];

    /// <summary>The process's rtnetlink sockets that joined exactly the link group (RTNLGRP_LINK, bit 0 of the
    /// groups mask) and nothing else: a link watcher's (the routing tables' socket joins more groups).</summary>
    private static int LinkOnlySockets(int pid)
    {
        var inodes = new HashSet<string>();
        foreach (var fd in Directory.GetFiles($"/proc/{pid}/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith("socket:[", StringComparison.Ordinal))
                    inodes.Add(target["socket:[".Length..^1]);
            }
            catch (IOException) { } // closed meanwhile
        }
        return File.ReadAllLines($"/proc/{pid}/net/netlink").Skip(1)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Count(c => c[1] == "0" && c[3] == "00000001" && inodes.Contains(c[9]));
    }

    private static JsonElement Json(RunBoard board, params string[] args)
    {
        var r = board.Cli([.. args, "--json"]);
        Assert.True(r.ExitCode == 0, $"{string.Join(' ', args)} --json: exit {r.ExitCode}: {r.StdErr}");
        return JsonDocument.Parse(r.StdOut).RootElement.Clone();
    }

    private static bool LinkLed(RunBoard board) =>
        Json(board, "leds").GetProperty("leds").EnumerateArray().Single(l => l.GetProperty("name").GetString() == "link").GetProperty("on").GetBoolean();

    private static bool PairCarrier(RunBoard board) =>
        Json(board, "status").GetProperty("pairs").EnumerateArray().Single().GetProperty("carrier").GetBoolean();

    [PrivilegedFact]
    public void Run_has_one_root_link_watcher_thread_and_socket_serving_port_carrier_pair_carrier_and_deleted_ports()
    {
        using var board = new RunBoard();
        board.WriteConfig(peerPolicy: "pass", ledLines: $$"""{ "name": "link", "chip": "mem", "line": 1, "trigger": "link:{{board.Port}}" }""");
        using var app = ApplianceProcess.Start(board.ConfigFile, board.Socket, "--leds", "memory");
        app.WaitReady();

        var names = ThreadNames(app.Pid);
        Assert.True(names.Count(n => n == "link watcher ro") == 1 && names.Count(n => n.StartsWith("link watcher", StringComparison.Ordinal)) == 1,
            $"want exactly one thread 'link watcher root' (comm 'link watcher ro'), threads: {string.Join(", ", names.Order())}");
        Assert.Equal(1, LinkOnlySockets(app.Pid));

        // The port's carrier, through the LED: the far end going down takes it away.
        Assert.True(Eventually.True(() => LinkLed(board), 15_000), "the link LED is on with the port's carrier up\n" + app.Output);
        board.Outside.Exec("ip", "link", "set", "o0", "down");
        Assert.True(Eventually.True(() => !LinkLed(board), 15_000), "the link LED goes off with the carrier\n" + app.Output);
        board.Outside.Exec("ip", "link", "set", "o0", "up");
        Assert.True(Eventually.True(() => LinkLed(board), 15_000), "the link LED comes back with the carrier\n" + app.Output);

        // The pair's carrier: the tenant taking its end down.
        Assert.True(PairCarrier(board), "the pair's carrier is up at start\n" + app.Output);
        Shell.Check("ip", "-n", board.TenantNs, "link", "set", "eth0", "down");
        Assert.True(Eventually.True(() => !PairCarrier(board), 15_000), "the pair's carrier goes down with the tenant's end\n" + app.Output);
        Shell.Check("ip", "-n", board.TenantNs, "link", "set", "eth0", "up");
        Assert.True(Eventually.True(() => PairCarrier(board), 15_000), "the pair's carrier comes back\n" + app.Output);

        // The port deleted: the engine marks its socket down (that the watcher's wake-up alone makes an idle worker look
        // is ForwardingEngineTests.An_idle_engine_on_a_shared_watcher_…; here the running appliance wakes it otherwise too).
        Assert.DoesNotContain("is down", app.StdErr);
        Shell.Check("ip", "link", "del", board.Port);
        Assert.True(app.StdErrShows($"({board.Port} queue 0) is down"), "the engine notices its deleted port\n" + app.Output);

        names = ThreadNames(app.Pid);
        Assert.Equal(1, names.Count(n => n.StartsWith("link watcher", StringComparison.Ordinal)));
    }
}
