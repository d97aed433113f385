using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Appliance.Host.Tests.Run;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Host.Tests.Observe;

/// <summary>The config's `metrics` endpoint, read by the real Prometheus parser (Debian's python3-prometheus-client),
/// (/usr/bin/python3: Debian's, where apt installs it) carries the same values as `stats --json`; `stats --prometheus` is the same text over the control socket.</summary>
[Collection(KernelCollection.Name)]
public sealed class MetricsTests
{
    private const string Parse = """
        import sys, json
        from prometheus_client.parser import text_string_to_metric_families
        out = []
        for family in text_string_to_metric_families(sys.stdin.read()):
            for s in family.samples:
                out.append({"family": family.name, "type": family.type, "name": s.name, "labels": s.labels, "value": s.value})
        print(json.dumps(out))
        """;

    private sealed record Sample(string Name, Dictionary<string, string> Labels, double Value);

    private static List<Sample> Parsed(string text)
    {
        var script = Path.Combine(Path.GetTempPath(), $"mapp-prom-{Guid.NewGuid():N}.py");
        var input = Path.Combine(Path.GetTempPath(), $"mapp-prom-{Guid.NewGuid():N}.txt");
        try
        {
            File.WriteAllText(script, Parse);
            File.WriteAllText(input, text);
            var json = Shell.Check("sh", "-c", $"/usr/bin/python3 {script} < {input}");
            return JsonDocument.Parse(json).RootElement.EnumerateArray().Select(s => new Sample(s.GetProperty("name").GetString()!,
                s.GetProperty("labels").EnumerateObject().ToDictionary(l => l.Name, l => l.Value.GetString()!), s.GetProperty("value").GetDouble())).ToList();
        }
        finally
        {
            File.Delete(script);
            File.Delete(input);
        }
    }

    private static int FreePort()
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)s.LocalEndPoint!).Port;
    }

    private static (int Status, string Body) Http(int port, string requestLine)
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        s.Connect(IPAddress.Loopback, port);
        s.Send(Encoding.ASCII.GetBytes($"{requestLine}\r\nHost: 127.0.0.1\r\n\r\n"));
        var all = new MemoryStream();
        var buf = new byte[8192];
        int n;
        while ((n = s.Receive(buf)) > 0) all.Write(buf, 0, n);
        string text = Encoding.UTF8.GetString(all.ToArray());
        int split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        return (int.Parse(text.Split(' ')[1]), text[(split + 4)..]);
    }

    private static double Value(List<Sample> samples, string name, params (string, string)[] labels) =>
        samples.Single(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Item1, out var v) && v == l.Item2)).Value;

    [PrivilegedFact]
    public void MetricsParseWithThePrometheusParserAndEqualStatsJson()
    {
        int port = FreePort();
        using var ob = new ObserveBoard($$"""
             "metrics": { "listen": "127.0.0.1:{{port}}" },
            """);
        var b = ob.Board;
        Assert.True(b.TenantPings(), "traffic through pair A\n" + ob.App.Output);
        ObserveBoard.SendUdp(b.TenantNs, RunBoard.OutsideAddress, 22, 2); // two drops by reason "verdict"

        // Counters move whenever a tenant speaks; compare a scrape taken between two equal `stats --json` reads.
        JsonElement stats = default;
        List<Sample> samples = [];
        bool stable = false;
        for (int attempt = 0; attempt < 20 && !stable; attempt++)
        {
            var before = Counters(ob.Stats());
            var (status, body) = Http(port, "GET /metrics HTTP/1.1");
            Assert.Equal(200, status);
            samples = Parsed(body);
            stats = ob.Stats();
            stable = before == Counters(stats);
        }
        Assert.True(stable, "the counters never held still between two `stats --json` reads");

        foreach (var p in stats.GetProperty("ports").EnumerateArray())
        {
            var labels = new[] { ("port", p.GetProperty("name").GetString()!), ("kind", p.GetProperty("kind").GetString()!) };
            foreach (var (metric, field) in new[] { ("rx_packets", "rxPackets"), ("rx_bytes", "rxBytes"), ("tx_packets", "txPackets"), ("tx_bytes", "txBytes") })
                Assert.Equal(p.GetProperty(field).GetInt64(), Value(samples, $"meta_appliance_port_{metric}_total", labels));
            foreach (var reason in p.GetProperty("drops").EnumerateObject())
                Assert.Equal(reason.Value.GetInt64(), Value(samples, "meta_appliance_port_drops_total", [.. labels, ("reason", reason.Name)]));
            var xsk = p.GetProperty("xsk");
            foreach (var (metric, field) in new[] { ("rx_dropped", "rxDropped"), ("rx_ring_full", "rxRingFull"), ("rx_fill_ring_empty", "rxFillRingEmpty"),
                         ("rx_invalid_descs", "rxInvalidDescs"), ("tx_invalid_descs", "txInvalidDescs"), ("tx_ring_empty", "txRingEmpty") })
                Assert.Equal(xsk.GetProperty(field).GetInt64(), Value(samples, $"meta_appliance_port_xsk_{metric}_total", labels));
            if (p.GetProperty("kind").GetString() != "port") continue;
            foreach (var (metric, field) in new[] { ("l3_prefixes", "l3Prefixes"), ("l3_board_addresses", "l3BoardAddresses"), ("l3_left_out", "l3LeftOut") })
                Assert.Equal(p.GetProperty(field).GetInt64(), Value(samples, $"meta_appliance_port_{metric}", labels[0]));
        }
        // Taken between the scrape and this read: the scrape's count is not above it.
        Assert.InRange(Value(samples, "meta_appliance_netlink_dumps_restarted_total"), 0, stats.GetProperty("netlinkDumpsRestarted").GetInt64());
        foreach (var pair in stats.GetProperty("pairs").EnumerateArray())
        {
            string name = pair.GetProperty("name").GetString()!;
            Assert.Equal(pair.GetProperty("carrier").GetBoolean() ? 1 : 0, Value(samples, "meta_appliance_pair_carrier", ("pair", name)));
            foreach (var side in new[] { "primary", "peer" })
            {
                var s = pair.GetProperty(side);
                var labels = new[] { ("pair", name), ("side", side) };
                foreach (var (metric, field) in new[] { ("rx_packets", "rxPackets"), ("rx_bytes", "rxBytes"), ("tx_packets", "txPackets"), ("tx_bytes", "txBytes"), ("tx_dropped", "txDropped") })
                    Assert.Equal(s.GetProperty(field).GetInt64(), Value(samples, $"meta_appliance_pair_side_{metric}_total", labels));
                foreach (var reason in s.GetProperty("drops").EnumerateObject())
                    Assert.Equal(reason.Value.GetInt64(), Value(samples, "meta_appliance_pair_side_drops_total", [.. labels, ("reason", reason.Name)]));
            }
        }
        foreach (var p in stats.GetProperty("programs").EnumerateArray())
        {
            var program = ("program", p.GetProperty("name").GetString()!);
            Assert.Equal(p.GetProperty("runs").GetInt64(), Value(samples, "meta_appliance_program_runs_total", program));
            Assert.Equal(p.GetProperty("bytes").GetInt64(), Value(samples, "meta_appliance_program_bytes_total", program));
            Assert.Equal(p.GetProperty("faults").GetInt64(), Value(samples, "meta_appliance_program_faults_total", program));
            foreach (var verdict in new[] { "pass", "next", "drop", "redirect", "unknown" })
                Assert.Equal(p.GetProperty(verdict).GetInt64(), Value(samples, "meta_appliance_program_verdicts_total", program, ("verdict", verdict)));
        }
        // Each forwarding worker's share, labelled `worker`, as `stats --json` shows it under `workers`; the shares sum
        // to the ports' totals (the summed series keep their names: a sum over a family counts a frame once).
        var workers = stats.GetProperty("workers").EnumerateArray().ToList();
        Assert.NotEmpty(workers);
        Assert.Equal(workers.Count, samples.Count(s => s.Name == "meta_appliance_worker_info"));
        foreach (var k in workers)
        {
            var worker = ("worker", k.GetProperty("worker").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture));
            string cpu = k.GetProperty("cpu").ValueKind == JsonValueKind.Null ? "none" : k.GetProperty("cpu").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(1, Value(samples, "meta_appliance_worker_info", worker, ("cpu", cpu)));
            Assert.Equal(k.GetProperty("queues").GetArrayLength(), Value(samples, "meta_appliance_worker_queues", worker));
            foreach (var (metric, field) in new[] { ("rx_packets", "rxPackets"), ("forwarded", "forwarded"), ("tx_packets", "txPackets"), ("drops", "drops"),
                         ("handed_off", "handedOff"), ("taken_over", "takenOver"), ("taken_over_drops", "takenOverDrops") })
                Assert.Equal(k.GetProperty(field).GetInt64(), Value(samples, $"meta_appliance_worker_{metric}_total", worker));
            Assert.True(Value(samples, "meta_appliance_worker_thread_loops_total", worker) > 0, $"worker {worker.Item2} never looped");
        }
        Assert.Equal(samples.Where(s => s.Name == "meta_appliance_port_rx_packets_total").Sum(s => s.Value),
            samples.Where(s => s.Name == "meta_appliance_worker_rx_packets_total").Sum(s => s.Value));
        Assert.True(samples.Where(s => s.Name == "meta_appliance_worker_rx_packets_total").Sum(s => s.Value) > 0);
        Assert.DoesNotContain(samples, s => s.Name == "meta_appliance_worker_loops_total" && s.Labels.Count > 0);

        Assert.Equal(2, Value(samples, "meta_appliance_pair_side_drops_total", ("pair", b.Pair), ("side", "peer"), ("reason", "verdict")));
        Assert.Equal(1, Value(samples, "meta_appliance_build_info"));
        Assert.Equal(1, Value(samples, "meta_appliance_config_generation"));
        Assert.Equal(1, Value(samples, "meta_appliance_worker_running"));
        Assert.True(Value(samples, "meta_appliance_worker_loops_total") > 0);

        // The same text over the control socket, and the HTTP responder's refusals.
        var viaSocket = Parsed(ObserveBoard.Ok(b.Cli("stats", "--prometheus")));
        Assert.Equal(samples.Select(s => s.Name).Distinct().Order(), viaSocket.Select(s => s.Name).Distinct().Order());
        Assert.Equal(404, Http(port, "GET /other HTTP/1.1").Status);
        Assert.Equal(405, Http(port, "POST /metrics HTTP/1.1").Status);
        Assert.Equal(400, Http(port, "nonsense").Status);

        // A reload bumps the generation and records its result.
        Assert.Contains("reloaded", ObserveBoard.Ok(b.Cli("reload")));
        var after = Parsed(Http(port, "GET /metrics HTTP/1.1").Body);
        Assert.Equal(2, Value(after, "meta_appliance_config_generation"));
        Assert.Equal(1, Value(after, "meta_appliance_last_reload_success"));
        Assert.True(Value(after, "meta_appliance_last_reload_timestamp_seconds") > 1.7e9);
    }

    /// <summary>stats --json without the ever-moving uptime and worker loop counts.</summary>
    private static string Counters(JsonElement stats) =>
        stats.GetProperty("ports").GetRawText() + stats.GetProperty("pairs").GetRawText() + stats.GetProperty("programs").GetRawText()
        + string.Join(';', stats.GetProperty("workers").EnumerateArray().Select(k => string.Join(' ',
            new[] { "rxPackets", "forwarded", "txPackets", "drops", "handedOff", "takenOver", "takenOverDrops" }.Select(f => k.GetProperty(f).GetInt64()))));
}
