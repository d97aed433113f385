using Appliance.Datapath.Tests.Engine;
using Appliance.TestSupport;
using Xunit;
using static Appliance.Datapath.Tests.Runtime.ProbeMaps;

namespace Appliance.Datapath.Tests.Runtime;

/// <summary>The per-frame path (classify, chain with a program, counters, transmit) allocates nothing: the
/// forwarding worker thread allocates less than a byte per forwarded frame while thousands of frames cross the
/// appliance. Measured on the worker thread alone, so other threads of the test process cannot disturb it.</summary>
[Collection(KernelCollection.Name)]
public sealed class HotPathTests
{
    [PrivilegedFact]
    public void ForwardingThroughAProgramAllocatesNothingPerFrame()
    {
        using var board = new MetaBoard(ports: 1, tenants: 1);
        var rt = board.Start([board.Port(0)], [board.Pair(0, primary: MetaBoard.Side(chain: "a"))], [MetaBoard.Probe("a", 'a')]);
        new ProbeMaps(rt, "a").Act(A, Pass);
        var pair = rt.FindPair(board.PairNames[0]);
        using var tx = PacketSocket.Open(board.Outside.Name, MetaBoard.OutsideInterface(0), TestFrames.EtherType);
        var frames = Enumerable.Range(1, 64).Select(i => TestFrames.Build(MetaBoard.TenantMac(0).GetBytes(), board.OutsideMac(0), 128, i)).ToArray();

        // Bursts of 64, each waited for (a faster sender only overflows the veth backlog): no allocation in the loop.
        long delivered = 0;
        void Burst(int n)
        {
            for (int sent = 0; sent < n; sent += 64)
            {
                for (int i = 0; i < 64; i++) tx.Send(frames[i]);
                delivered += 64;
                var deadline = Environment.TickCount64 + 10000;
                while (pair.Primary.Counters.TxPackets < delivered)
                {
                    if (Environment.TickCount64 > deadline)
                        throw new Xunit.Sdk.XunitException($"only {pair.Primary.Counters.TxPackets} of {delivered} frames delivered");
                    Thread.Sleep(1);
                }
            }
        }

        Burst(2048); // warm-up: JIT tiers, first-use paths
        long before = SettledWorkerAllocation(rt.Engine);
        Burst(5120);
        long allocated = SettledWorkerAllocation(rt.Engine) - before;
        Assert.True(allocated < 5000, $"{allocated} bytes allocated by the worker while forwarding 5120 frames");
    }

    /// <summary>The worker's allocation counter once it has been sampled after the traffic stopped.</summary>
    private static long SettledWorkerAllocation(Appliance.Datapath.Engine.ForwardingEngine engine)
    {
        Thread.Sleep(500); // several health checks (100 ms each) after the last frame
        return engine.WorkerAllocatedBytes;
    }
}
