using System.Text.Json;
using Appliance.Config;
using Appliance.Datapath.Runtime;
using Appliance.Datapath.Runtime.Reconcile;
using Appliance.Datapath.Xsk;
using Appliance.Host.Commands;
using Appliance.Host.Control;
using Appliance.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Appliance.Host.Tests.Control;

/// <summary>Every listing shows a pair or port of the running config that is not running, marked so, after the running
/// ones (which keep their shape): `status`, `stats`, `pairs` as a row with NOT RUNNING; `stats --json` (and `status
/// --json`) as an entry with its name, "running": false and "why", which `stats --watch`'s parser reads. Made real: a
/// reload's `queues` change on port B fails because another AF_XDP socket holds its queue 3, so B and its pair are
/// taken out, while port A runs on.</summary>
[Collection(KernelCollection.Name)]
public sealed class NotRunningListingTests(ITestOutputHelper output)
{
    [PrivilegedFact]
    public void EveryListingShowsWhatIsNotRunningMarkedSo()
    {
        string portA = NetNamespace.UniqueInterface("mapp"), portB = NetNamespace.UniqueInterface("mapp"), pair = NetNamespace.UniqueInterface("mapp");
        using var outside = new NetNamespace("nro");
        using var tenant = new NetNamespace("nrt");
        ApplianceRuntime? rt = null;
        try
        {
            Shell.Check("ip", "link", "add", portA, "type", "veth", "peer", "name", "out0", "netns", outside.Name);
            Shell.Check("ip", "link", "add", portB, "numtxqueues", "4", "numrxqueues", "4", "type", "veth",
                "peer", "name", "out1", "numtxqueues", "4", "numrxqueues", "4", "netns", outside.Name);
            outside.Exec("ip", "link", "set", "dev", "out0", "up");
            outside.Exec("ip", "link", "set", "dev", "out1", "up");
            outside.Exec("ethtool", "-L", "out1", "tx", "2");
            var portsBefore = new[] { new PortConfig { Name = portA }, new PortConfig { Name = portB, Queues = 2 } };
            rt = ApplianceRuntime.Start(new ApplianceConfig
            {
                Board = "test",
                ControlSocket = "/run/mapp-unused.sock",
                Ports = portsBefore,
                Pairs =
                [
                    new PairConfig
                    {
                        Name = pair, Mode = PairMode.L2, Uplink = portB,
                        Tenant = new TenantConfig { Netns = tenant.Name, Interface = "eth0", Mac = MacAddress.Parse("02:00:00:00:0e:01") },
                    },
                ],
                Programs = [],
                Workers = 2,
            }, new RuntimeOptions { ConfigDirectory = ".", SweepStale = false });
            var next = rt.Config with { Ports = [portsBefore[0], portsBefore[1] with { Queues = 4 }] };
            Shell.Check("ethtool", "-L", portB, "rx", "4", "tx", "4");
            using (XskPortSet.Open([new XskPortSpec(portB, 3, ZeroCopyMode.Off, AttachSteering: false) { Queues = 1 }]))
                Assert.Throws<ReconcileException>(() => rt.Apply(rt.Plan(next)));
            Assert.Equal([$"pair {pair}", $"port {portB}"], rt.NotRunning.Select(p => p.Target).Order());

            var report = new RuntimeReport(rt);
            string status = report.Status(), stats = report.Stats(), pairs = report.Pairs(), json = report.StatsJson();
            output.WriteLine(status + "\n" + stats + "\n" + pairs + "\n" + json);
            string[] Row(string text, string name) => text.Split('\n').Single(l => l.StartsWith(name + "  ", StringComparison.Ordinal))
                .Split("  ", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

            Assert.Equal([portB, "NOT RUNNING", "-", "-", "-", "-", "-"], Row(status, portB)); // PORT … STATE
            Assert.Equal("up", Row(status, portA)[^1]); // the running port's row as before
            Assert.Equal([pair, "NOT RUNNING", "-", "-", "-", "-", "-"], Row(status, pair));
            Assert.Equal([pair, "NOT RUNNING", "-", "-", "-", "-"], Row(pairs, pair)); // PAIR SIDE POLICY SCRUB REVISION CHAIN
            Assert.Equal([portB, "NOT RUNNING", "-", "-", "-", "-", "-", "-", "-", "-"], Row(stats, portB));
            Assert.Equal([$"{pair} (primary end)", "NOT RUNNING", "-", "-", "-", "-", "-", "-", "-", "-"], Row(stats, $"{pair} (primary end)"));
            Assert.Equal(2, stats.Split('\n').Count(l => l.StartsWith(pair + "  ", StringComparison.Ordinal) && l.Contains("NOT RUNNING"))); // its sides row and its learning row
            Assert.Equal(10, Row(stats, portA).Length); // the running port's counters as before

            using var doc = JsonDocument.Parse(json);
            var ports = doc.RootElement.GetProperty("ports").EnumerateArray().ToList();
            var a = ports.Single(p => p.GetProperty("name").GetString() == portA);
            Assert.False(a.TryGetProperty("running", out _)); // running entries keep their shape
            Assert.True(a.TryGetProperty("rxPackets", out _));
            var b = ports.Single(p => p.GetProperty("name").GetString() == portB);
            Assert.Equal(["name", "kind", "running", "why"], b.EnumerateObject().Select(m => m.Name));
            Assert.Equal("port", b.GetProperty("kind").GetString());
            Assert.False(b.GetProperty("running").GetBoolean());
            Assert.Contains("EBUSY", b.GetProperty("why").GetString());
            var end = ports.Single(p => p.GetProperty("name").GetString() == pair);
            Assert.Equal("primary-end", end.GetProperty("kind").GetString());
            Assert.False(end.GetProperty("running").GetBoolean());
            var p = Assert.Single(doc.RootElement.GetProperty("pairs").EnumerateArray());
            Assert.Equal(["name", "running", "why"], p.EnumerateObject().Select(m => m.Name));
            Assert.Contains($"its uplink, port {portB}, was taken out", p.GetProperty("why").GetString());

            var watched = StatsWatch.Parse(json); // the CLI's source-generated reader takes it
            Assert.Equal([true, false, false], watched.Ports.Select(x => x.Running));
            Assert.Contains($"{portB} ", StatsWatch.Table(watched, watched, 1, DateTime.UtcNow).Split('\n').Single(l => l.Contains("NOT RUNNING") && l.StartsWith(portB)));
        }
        finally
        {
            rt?.Dispose();
            Shell.Run("ip", "link", "del", portA);
            Shell.Run("ip", "link", "del", portB);
        }
    }
}
