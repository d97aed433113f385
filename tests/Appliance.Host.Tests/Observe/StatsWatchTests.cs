using Appliance.Host.Commands;
using Xunit;

namespace Appliance.Host.Tests.Observe;

/// <summary>`stats --watch`: rates from two `stats --json` answers.</summary>
public sealed class StatsWatchTests
{
    private static StatsWatch.WatchedStats Stats(long rx, long rxBytes, long drops, long sideIn, long sideDropped) => StatsWatch.Parse($$"""
        {
          "uptimeSeconds": 5,
          "ports": [
            { "name": "eth0", "kind": "port", "rxPackets": {{rx}}, "rxBytes": {{rxBytes}}, "txPackets": 0, "txBytes": 0, "drops": { "ringFull": {{drops}}, "policy": 0 } },
            { "name": "a", "kind": "primary-end", "rxPackets": 0, "rxBytes": 0, "txPackets": {{rx}}, "txBytes": {{rxBytes}}, "drops": { "ringFull": 0 } }
          ],
          "pairs": [
            { "name": "a", "carrier": true,
              "primary": { "rxPackets": {{sideIn}}, "rxBytes": {{sideIn * 100}}, "txPackets": {{sideIn - sideDropped}}, "txBytes": 0, "txDropped": {{sideDropped}}, "drops": {} },
              "peer": { "rxPackets": 0, "rxBytes": 0, "txPackets": 0, "txBytes": 0, "txDropped": 0, "drops": {} } }
          ],
          "programs": []
        }
        """);

    [Fact]
    public void RatesAreTheDifferencesOverTheInterval()
    {
        var block = StatsWatch.Table(Stats(1000, 100_000, 5, 1000, 10), Stats(3000, 2_600_000, 25, 3000, 50), 2.0, new DateTime(2026, 1, 1, 12, 0, 0));
        var lines = block.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("12:00:00 rates over 2.0 s", lines[0]);
        var eth0 = lines.Single(l => l.StartsWith("eth0 ", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["eth0", "1000", "10.00M", "0", "0", "10"], eth0); // 2000 frames, 2.5 MB = 20 Mbit, 20 drops over 2 s
        var end = lines.Single(l => l.StartsWith("a (primary end)", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["1000", "10.00M", "0"], end[5..]);
        var side = lines.Single(l => l.StartsWith("a/primary", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["a/primary", "1000", "800.00k", "980", "0", "20"], side);
        Assert.Contains(lines, l => l.StartsWith("a/peer", StringComparison.Ordinal));
    }

    [Fact]
    public void A_ports_drops_per_second_count_what_the_kernel_dropped_on_its_sockets()
    {
        static StatsWatch.WatchedStats Xsk(long engine, long noFrame, long ringFull) => StatsWatch.Parse($$"""
            { "ports": [ { "name": "eth0", "kind": "port", "rxPackets": 0, "rxBytes": 0, "txPackets": 0, "txBytes": 0,
                           "drops": { "policy": {{engine}} },
                           "xsk": { "rxDropped": {{noFrame}}, "rxRingFull": {{ringFull}}, "rxFillRingEmpty": {{noFrame}}, "rxInvalidDescs": 0, "txInvalidDescs": 0, "txRingEmpty": 7 } } ],
              "pairs": [] }
            """);
        var block = StatsWatch.Table(Xsk(10, 100, 1000), Xsk(20, 300, 5000), 2.0, new DateTime(2026, 1, 1, 12, 0, 0));
        var eth0 = block.Split('\n').Single(l => l.StartsWith("eth0 ", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("2105", eth0[^1]); // (10 + 200 + 4000) over 2 s
    }

    /// <summary>`stats --json` lists a pair or port of the running config that is not running as its name, `"running":
    /// false` and why, without counters: the watch names it NOT RUNNING and goes on with the rates of the others (before,
    /// its missing sides threw).</summary>
    [Fact]
    public void A_part_that_is_not_running_is_named_NOT_RUNNING_without_rates()
    {
        static StatsWatch.WatchedStats WithNotRunning(long rx) => StatsWatch.Parse($$"""
            { "ports": [ { "name": "eth0", "kind": "port", "rxPackets": {{rx}}, "rxBytes": 0, "txPackets": 0, "txBytes": 0, "drops": {} },
                         { "name": "eth1", "kind": "port", "running": false, "why": "its sockets could be opened neither on 4 queues nor on its 2 again" },
                         { "name": "b", "kind": "primary-end", "running": false, "why": "its uplink, port eth1, was taken out" } ],
              "pairs": [ { "name": "b", "running": false, "why": "its uplink, port eth1, was taken out" } ] }
            """);
        var before = WithNotRunning(10);
        Assert.True(before.Ports[0].Running);
        Assert.False(before.Ports[1].Running);
        Assert.False(before.Pairs[0].Running);
        var lines = StatsWatch.Table(before, WithNotRunning(30), 2.0, new DateTime(2026, 1, 1, 12, 0, 0)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["eth0", "10", "0", "0", "0", "0"], lines.Single(l => l.StartsWith("eth0 ", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal("eth1 NOT RUNNING", string.Join(' ', lines.Single(l => l.StartsWith("eth1 ", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)));
        Assert.Equal("b (primary end) NOT RUNNING", string.Join(' ', lines.Single(l => l.StartsWith("b (primary", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)));
        Assert.Equal("b NOT RUNNING", string.Join(' ', lines.Single(l => l.StartsWith("b  ", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)));
    }
}
