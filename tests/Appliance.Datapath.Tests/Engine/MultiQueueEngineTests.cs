using System.Buffers.Binary;
using System.Diagnostics;
using Appliance.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Appliance.Datapath.Tests.Engine;

/// <summary>Several forwarding workers, one per RX queue: veths made with 2 and 4 queues, many UDP flows sent into
/// one end (the veth picks a queue per flow hash, the XDP program steers each queue to its worker's socket), each
/// frame forwarded by the worker of its queue on that worker's socket of the other end.</summary>
[Collection(KernelCollection.Name)]
public sealed class MultiQueueEngineTests(ITestOutputHelper output)
{
    private const int Flows = 64, PerFlow = 400;

    [PrivilegedTheory]
    [InlineData(2)]
    [InlineData(4)]
    public void Flows_spread_over_the_workers_and_every_frame_arrives_once_and_in_order_per_flow(int workers)
    {
        using var t = new ForwardTopology(queues: workers);
        // No TX offloads on the senders: the veth then hands each frame to the NAPI of its queue, where XDP runs.
        t.NsA.Exec("ethtool", "-K", ForwardTopology.TenantA, "tx", "off");
        t.NsB.Exec("ethtool", "-K", ForwardTopology.TenantB, "tx", "off");
        // Pinned workers keep each flow on one CPU's backlog at the far end (the kernel's order, not ours).
        var cpus = Enumerable.Range(0, workers).Select(w => w % Environment.ProcessorCount).ToArray();
        using var h = new EngineHarness(t, workers: workers, cpus: cpus);
        Assert.Equal(workers, h.Engine.WorkerCount);
        for (int w = 0; w < workers; w++)
        {
            Assert.Equal((uint)w, h.Engine.PortAt(0, w).Queue);
            Assert.Equal(w, h.Engine.PortAt(0, w).Worker);
        }
        // One UMEM per worker: no free stack is shared between threads.
        Assert.Equal(workers, Enumerable.Range(0, workers).SelectMany(h.Engine.PortsOf).Select(p => p.Umem).Distinct().Count());

        byte[] macA = ForwardTopology.ParseMac(t.MacOf(t.NsA, ForwardTopology.TenantA));
        byte[] macB = ForwardTopology.ParseMac(t.MacOf(t.NsB, ForwardTopology.TenantB));
        using var sockA = PacketSocket.Open(t.NsA.Name, ForwardTopology.TenantA, 0x0800);
        using var sockB = PacketSocket.Open(t.NsB.Name, ForwardTopology.TenantB, 0x0800);

        const int total = Flows * PerFlow;
        var flows = new UdpFlows(sockB, Flows, total);
        flows.Send(sockA, macB, macA);
        flows.AssertEveryFrameOnceInOrder();

        var inTotal = h.Engine.CountersOf(0);
        var outTotal = h.Engine.CountersOf(1);
        Assert.Equal(total, inTotal.RxPackets);
        Assert.Equal(total, inTotal.Forwarded);
        Assert.Equal(0, inTotal.TotalDrops);
        Assert.Equal(total, outTotal.TxPackets);
        // Spread: every worker's queue carried a share of the flows, and the worker that received a frame sent it.
        for (int w = 0; w < workers; w++)
        {
            var c = h.Engine.PortAt(0, w).Counters;
            Assert.True(c.RxPackets > 0, $"worker {w} received nothing: " + string.Join(", ", Enumerable.Range(0, workers).Select(k => h.Engine.PortAt(0, k).Counters.RxPackets)));
            Assert.Equal(c.Forwarded, h.Engine.PortAt(1, w).Counters.TxPackets);
        }
        output.WriteLine($"{workers} workers, frames received per worker: " +
                         string.Join(", ", Enumerable.Range(0, workers).Select(k => h.Engine.PortAt(0, k).Counters.RxPackets)));
        h.AssertNoFrameLeaked();
        Assert.Equal(0, flows.Foreign);
    }
}
