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
}
