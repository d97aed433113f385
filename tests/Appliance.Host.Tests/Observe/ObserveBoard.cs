using System.Text.Json;
using Appliance.Host.Tests.Run;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Host.Tests.Observe;

/// <summary>The capture/replay/metrics tests' appliance: a <see cref="RunBoard"/> with two pairs and three programs
/// on one port. Pair A: primary [count], peer [count, allow] (allow_port lets UDP/TCP only to port 53, everything
/// without L4 passes). Pair B (headroom 4): primary [vlan] (tags VLAN 100 into the tenant, which trunks VLANs, so the
/// tagged frames reach it), peer [count]. Static neighbours on both ends of B (tagged ARP would not reach its
/// tenant's stack).</summary>
public sealed class ObserveBoard : IDisposable
{
    public RunBoard Board { get; } = new();
    public ApplianceProcess App { get; }
    public string CaptureFolder => Board.Folder;

    public ObserveBoard(string extraTopLevel = "")
    {
        var b = Board;
        try
        {
            b.WriteConfigText($$"""
                {
                  "board": "test",
                  "controlSocket": "{{b.Socket}}",
                  {{extraTopLevel}}
                  "ports": [{ "name": "{{b.Port}}", "unclaimed": "kernel" }],
                  "pairs": [
                    { "name": "{{b.Pair}}", "mode": "l2", "uplink": "{{b.Port}}",
                      "tenant": { "netns": "{{b.TenantNs}}", "interface": "eth0", "mac": "02:00:00:00:0c:01", "addresses": ["{{RunBoard.TenantAddress}}/24"] },
                      "primary": { "chain": [{ "program": "count" }] },
                      "peer": { "chain": [{ "program": "count" }, { "program": "allow" }] } },
                    { "name": "{{b.Pair2}}", "mode": "l2", "uplink": "{{b.Port}}", "headroom": 4,
                      "tenant": { "netns": "{{b.TenantNs2}}", "interface": "eth0", "mac": "02:00:00:00:0c:02", "addresses": ["{{RunBoard.Tenant2Address}}/24"],
                                 "serves": ["vlans"] },
                      "primary": { "chain": [{ "program": "vlan" }] },
                      "peer": { "chain": [{ "program": "count" }] } }
                  ],
                  "programs": [
                    { "name": "count", "object": "counter.bpf.o", "section": "tc" },
                    { "name": "allow", "object": "allow_port.bpf.o", "section": "netkit/peer", "maps": { "allowed_ports": [{ "key": 53, "value": 0 }] } },
                    { "name": "vlan", "object": "vlan_tag.bpf.o", "section": "tc" }
                  ]
                }
                """);
            App = ApplianceProcess.Start(b.ConfigFile, b.Socket);
            App.WaitReady();
            string outsideMac = b.Outside.Exec("cat", "/sys/class/net/o0/address").Trim();
            b.Outside.Exec("ip", "neigh", "replace", RunBoard.Tenant2Address, "lladdr", "02:00:00:00:0c:02", "dev", "o0");
            Shell.Check("ip", "netns", "exec", b.TenantNs2, "ip", "neigh", "replace", RunBoard.OutsideAddress, "lladdr", outsideMac, "dev", "eth0");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>UDP datagrams to ADDRESS:PORT from a namespace (bash's /dev/udp: one datagram per line).</summary>
    public static void SendUdp(string netns, string address, int port, int count) =>
        Shell.Check("ip", "netns", "exec", netns, "bash", "-c", $"for i in $(seq {count}); do echo datagram-$i > /dev/udp/{address}/{port}; done");

    public JsonElement Stats() => JsonDocument.Parse(Ok(Board.Cli("stats", "--json"))).RootElement;

    public static string Ok(Shell.Result r)
    {
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.StdErr}");
        return r.StdOut;
    }

    /// <summary>A pair side's counters from `stats --json`.</summary>
    public static JsonElement Side(JsonElement stats, string pair, string side) =>
        stats.GetProperty("pairs").EnumerateArray().Single(p => p.GetProperty("name").GetString() == pair).GetProperty(side);

    /// <summary>Polls `stats --json` until <paramref name="condition"/> holds: the worker has handled the frames.</summary>
    public void Eventually(Func<JsonElement, bool> condition, string what)
    {
        JsonElement last = default;
        for (var deadline = DateTime.UtcNow.AddSeconds(20); DateTime.UtcNow < deadline; Thread.Sleep(100))
            if (condition(last = Stats())) return;
        Assert.Fail($"{what}; last stats: {last}\n{App.Output}");
    }

    public void Dispose()
    {
        App?.Dispose();
        Board.Dispose();
    }
}
