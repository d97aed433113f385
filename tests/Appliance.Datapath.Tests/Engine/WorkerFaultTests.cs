using Appliance.Datapath.Engine;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Datapath.Tests.Engine;

/// <summary>Nothing a frame causes ends forwarding: a decision that throws drops that frame (InternalError), a fault
/// that escapes the loop restarts it in place (same engine, same rings), and the frame ledger stays clean. Each sets
/// the engine's fault signal, which the appliance's health check sleeps on instead of polling.</summary>
[Collection(KernelCollection.Name)]
public sealed class WorkerFaultTests
{
    private static byte[] Frame(byte[] dst, byte[] src, int seq, bool poison) =>
        FaultyHandler.Poison(TestFrames.Build(dst, src, 120, seq), poison);

    [PrivilegedFact]
    public void A_throwing_decision_drops_only_its_frame_and_a_loop_fault_restarts_the_worker_in_place()
    {
        using var t = new ForwardTopology();
        var handler = new FaultyHandler();
        using var h = new EngineHarness(t, handler);
        byte[] macA = ForwardTopology.ParseMac(t.MacOf(t.NsA, ForwardTopology.TenantA));
        byte[] macB = ForwardTopology.ParseMac(t.MacOf(t.NsB, ForwardTopology.TenantB));
        using var sockA = PacketSocket.Open(t.NsA.Name, ForwardTopology.TenantA, TestFrames.EtherType);
        using var sockB = PacketSocket.Open(t.NsB.Name, ForwardTopology.TenantB, TestFrames.EtherType);

        Assert.False(h.Engine.FaultSignal.WaitOne(0)); // what the appliance's health check sleeps on: no fault yet
        // 10 poisoned frames between 20 good ones: the good ones arrive, the poisoned ones are InternalError drops.
        int seq = 0;
        for (int i = 0; i < 30; i++) sockA.Send(Frame(macB, macA, ++seq, poison: i % 3 == 1));
        var got = Runtime.FrameProbe.Collect(sockB, 20, Runtime.FrameProbe.Timeout);
        Assert.Equal(20, got.Count);
        Assert.All(got, f => Assert.NotEqual(0xEE, f[15]));
        EngineHarness.WaitUntil(() => h.In.RxPackets == 30, TimeSpan.FromSeconds(10), "30 frames received");
        Assert.Equal(10, h.In.Drops(DropReason.InternalError));
        Assert.Equal(10, h.Engine.HandlerFaults);
        Assert.Equal(0, h.Engine.WorkerRestarts);
        Assert.Contains("injected frame fault", h.Engine.LastFault);
        Assert.True(h.Engine.FaultSignal.WaitOne(0), "the faults did not set the fault signal");
        h.Engine.ResetFaultSignal();
        Assert.False(h.Engine.FaultSignal.WaitOne(0));

        // A fault outside the per-frame guard: the loop restarts, the batch's frames are accounted, forwarding resumes.
        Volatile.Write(ref handler.FailBatches, 1);
        for (int i = 0; i < 5; i++) sockA.Send(Frame(macB, macA, ++seq, poison: false));
        EngineHarness.WaitUntil(() => h.Engine.WorkerRestarts == 1, TimeSpan.FromSeconds(10), "the worker restart");
        Assert.True(h.Engine.IsRunning);
        Assert.Null(h.Engine.WorkerFailure);
        Assert.Contains("injected batch fault", h.Engine.LastFault);
        Assert.Contains(h.Log, l => l.Contains("restarting in place"));
        Assert.True(h.Engine.FaultSignal.WaitOne(0), "the restart did not set the fault signal again");

        var after = Frame(macB, macA, ++seq, poison: false);
        sockA.Send(after);
        var resumed = Runtime.FrameProbe.Collect(sockB, 6, Runtime.FrameProbe.Timeout);
        Assert.Contains(resumed, f => f.AsSpan().SequenceEqual(after));

        // Every frame is accounted for: forwarded or dropped by reason, and no frame leaked.
        EngineHarness.WaitUntil(() => h.In.RxPackets == seq, TimeSpan.FromSeconds(10), "every frame received");
        Assert.Equal(h.In.RxPackets, h.In.Forwarded + h.In.TotalDrops);
        Assert.Equal(h.In.Forwarded, h.Out.TxPackets);
        Assert.Equal(20 + 1 + (5 - (h.In.Drops(DropReason.InternalError) - 10)), h.In.Forwarded);
        h.AssertNoFrameLeaked();
    }
}
