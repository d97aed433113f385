using System.Text.Json;
using Appliance.Datapath.Forwarding;
using Appliance.Datapath.Tests.Engine;
using Appliance.Datapath.Tests.Runtime;
using Appliance.Host.Control;
using Appliance.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Appliance.Host.Tests.Observe;

/// <summary>One tenant's stalled queue costs only that tenant its copies of the port's broadcasts. A tbf qdisc at
/// 8 bit/s on tenant a's primary end holds every copy sent into it (a stopped NIC queue, a tenant that takes nothing, do
/// the same), so the flooder's send buffer for that interface fills. Before, one transmit socket served every tenant
/// and its sends blocked: once that buffer was full the flooder sat in a send into a and no other tenant on the port
/// got another broadcast — no ARP who-has, no DHCP offer — until a's queue drained.</summary>
[Collection(KernelCollection.Name)]
public sealed class StalledTenantFloodTests(ITestOutputHelper output)
{
    private const int Bursts = 10, PerBurst = 100, Frames = Bursts * PerBurst;
    private static readonly byte[] Broadcast = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];

    /// <summary>a is first in the flood order, so on the old code every copy for b waited behind a's send: now b
    /// receives every broadcast of every burst, in order, and a loses the copies its queue could not take, counted on
    /// its primary side as <c>queueFull</c> — in `stats` and `stats --json` — with every copy accounted, sent or lost.
    /// Once the stall ends, a gets its copies again. On the old code b's third burst never arrived (burst 3: 75 of
    /// 100; a's send blocked after 276 copies).</summary>
    [PrivilegedFact]
    public void A_tenant_whose_queue_stalls_loses_its_own_copies_and_no_other_tenant_waits()
    {
        using var board = new MetaBoard(ports: 1, tenants: 2);
        var rt = board.Start([board.Port(0)], [board.Pair(0), board.Pair(1)]);
        var a = rt.FindPair(board.PairNames[0]);
        var b = rt.FindPair(board.PairNames[1]);
        using var intoA = PacketSocket.Open(board.Tenants[0].Name, MetaBoard.TenantInterface, TestFrames.EtherType);
        using var intoB = PacketSocket.Open(board.Tenants[1].Name, MetaBoard.TenantInterface, TestFrames.EtherType);
        using var tx = PacketSocket.Open(board.Outside.Name, MetaBoard.OutsideInterface(0), TestFrames.EtherType);
        Shell.Check("tc", "qdisc", "add", "dev", a.PrimaryName, "root", "tbf", "rate", "8bit", "burst", "2000", "limit", "100000000");
        try
        {
            for (int burst = 0; burst < Bursts; burst++)
            {
                var sent = Enumerable.Range(burst * PerBurst + 1, PerBurst).Select(i => TestFrames.Build(Broadcast, board.OutsideMac(0), 100, i)).ToList();
                foreach (var f in sent) tx.Send(f);
                var got = FrameProbe.Collect(intoB, PerBurst, FrameProbe.Timeout);
                Assert.True(got.Count == PerBurst, $"burst {burst + 1}: tenant b received {got.Count} of {PerBurst} broadcasts " +
                    $"(a's primary side: {a.Primary.Counters.TxPackets} sent, {a.Primary.Counters.Drops(PairDropReason.QueueFull)} queueFull)");
                Assert.Equal(sent, got);
            }
            Eventually.Equal(Frames, () => a.Primary.Counters.RxPackets, "copies decided into a");
            long sentIntoA = a.Primary.Counters.TxPackets, lostToA = a.Primary.Counters.Drops(PairDropReason.QueueFull);
            output.WriteLine($"a: {sentIntoA} copies sent into its stalled queue, {lostToA} lost as queueFull; b: {b.Primary.Counters.TxPackets} sent");
            Assert.True(lostToA > 0, "a's stalled queue cost it copies");
            Assert.Equal(Frames, sentIntoA + lostToA);
            Assert.Equal(lostToA, a.Primary.Counters.TxDropped); // queueFull and nothing else
            Assert.Equal(Frames, b.Primary.Counters.RxPackets);
            Assert.Equal(Frames, b.Primary.Counters.TxPackets);
            Assert.Equal(0, b.Primary.Counters.TxDropped);
            Assert.Equal(Frames + sentIntoA, rt.Topology.Ports[0].Flooded); // copies sent, not the lost ones

            // Where `stats` shows a pair side's drops: the text's DROPS BY REASON and --json's drops.
            var report = new RuntimeReport(rt);
            var json = JsonDocument.Parse(report.StatsJson()).RootElement;
            Assert.Equal(lostToA, Primary(json, a.Name).GetProperty("drops").GetProperty("queueFull").GetInt64());
            Assert.Equal(0, Primary(json, b.Name).GetProperty("drops").GetProperty("queueFull").GetInt64());
            string row = report.Stats().Split('\n').Single(l => l.StartsWith(a.Name + " ", StringComparison.Ordinal) && l.Contains(" primary ", StringComparison.Ordinal));
            Assert.EndsWith($"queueFull={lostToA}", row.TrimEnd());
        }
        finally
        {
            Shell.Run("tc", "qdisc", "del", "dev", a.PrimaryName, "root");
        }
        // The stall over, a's copies go again (what its queue held was freed with the qdisc).
        var after = TestFrames.Build(Broadcast, board.OutsideMac(0), 100, Frames + 1);
        tx.Send(after);
        Assert.Equal(new List<byte[]> { after }, FrameProbe.Collect(intoB, 1, FrameProbe.Timeout));
        Assert.Contains(FrameProbe.Collect(intoA, PerBurst, FrameProbe.Absence), f => f.AsSpan().SequenceEqual(after));
        Assert.Null(rt.Flooder.Failure);
    }

    private static JsonElement Primary(JsonElement stats, string pair) =>
        stats.GetProperty("pairs").EnumerateArray().Single(p => p.GetProperty("name").GetString() == pair).GetProperty("primary");
}
