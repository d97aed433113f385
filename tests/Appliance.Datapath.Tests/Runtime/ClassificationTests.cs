using Appliance.Config;
using Appliance.Datapath.Tests.Engine;
using Appliance.TestSupport;
using Xunit;
using static Appliance.Datapath.Tests.Runtime.ProbeMaps;

namespace Appliance.Datapath.Tests.Runtime;

/// <summary>Classification on a port: broadcast reaches the kernel and every L2 pair (each copy through its own
/// primary chain); unclaimed unicast goes to the kernel or is dropped, as the port says.</summary>
[Collection(KernelCollection.Name)]
public sealed class ClassificationTests
{
    private const int Frames = 3;
    private static readonly byte[] Broadcast = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];

    [PrivilegedFact]
    public void BroadcastReachesTheKernelAndEveryL2PairThroughItsOwnChain()
    {
        using var board = new MetaBoard(ports: 1, tenants: 3);
        var rt = board.Start([board.Port(0)],
            [board.Pair(0), board.Pair(1, primary: MetaBoard.Side(chain: "a")), board.Pair(2, primary: MetaBoard.Side(chain: "b"))],
            [MetaBoard.Probe("a", 'a'), MetaBoard.Probe("b", 'b')]);
        var probe = new ProbeMaps(rt, "a");
        probe.Act(A, Pass);
        probe.Act(B, Drop);
        using var t0 = PacketSocket.Open(board.Tenants[0].Name, MetaBoard.TenantInterface, TestFrames.EtherType);
        using var t1 = PacketSocket.Open(board.Tenants[1].Name, MetaBoard.TenantInterface, TestFrames.EtherType);
        using var t2 = PacketSocket.Open(board.Tenants[2].Name, MetaBoard.TenantInterface, TestFrames.EtherType);
        using var kernel = PacketSocket.Open(null, board.Ports[0], TestFrames.EtherType);
        using var tx = PacketSocket.Open(board.Outside.Name, MetaBoard.OutsideInterface(0), TestFrames.EtherType);
        var sent = Enumerable.Range(1, Frames).Select(i => TestFrames.Build(Broadcast, board.OutsideMac(0), 100, i)).ToList();
        foreach (var f in sent) tx.Send(f);

        Assert.Equal(sent, FrameProbe.Collect(t0, Frames, FrameProbe.Timeout));
        Assert.Equal(sent, FrameProbe.Collect(t1, Frames, FrameProbe.Timeout));
        Assert.Equal(sent, FrameProbe.Collect(kernel, Frames, FrameProbe.Timeout)); // the board's own stack got them too
        Eventually.Equal(Frames, () => rt.FindPair(board.PairNames[2]).Primary.Counters.Drops(Appliance.Datapath.Forwarding.PairDropReason.Verdict), "pair 2 drops");
        Assert.Empty(FrameProbe.Silence(t2));
        Assert.Equal(Frames, probe.Seen(A).Count);
        Assert.Equal(Frames, probe.Seen(B).Count);
        Assert.Equal(1u, probe.Seen(A).PacketType); // PACKET_BROADCAST
        Assert.Equal(2 * Frames, rt.Topology.Ports[0].Flooded);
    }

    [PrivilegedFact]
    public void BroadcastStillReachesThePairAfterThePortsLinkWentDownAndUp()
    {
        // A port's link going down makes the flooder's AF_PACKET socket report ENETDOWN once (the kernel sets sk_err):
        // that is no fault of the flooder, which must go on flooding when the link is back (a pulled cable must not
        // end ARP into the tenants for good).
        using var board = new MetaBoard(ports: 1, tenants: 1);
        var rt = board.Start([board.Port(0)], [board.Pair(0)]);
        using var tenant = PacketSocket.Open(board.Tenants[0].Name, MetaBoard.TenantInterface, TestFrames.EtherType);
        using var tx = PacketSocket.Open(board.Outside.Name, MetaBoard.OutsideInterface(0), TestFrames.EtherType);
        var before = Enumerable.Range(1, Frames).Select(i => TestFrames.Build(Broadcast, board.OutsideMac(0), 100, i)).ToList();
        foreach (var f in before) tx.Send(f);
        Assert.Equal(before, FrameProbe.Collect(tenant, Frames, FrameProbe.Timeout));

        Assert.Equal(0, Shell.Run("ip", "link", "set", board.Ports[0], "down").ExitCode);
        Assert.Equal(0, Shell.Run("ip", "link", "set", board.Ports[0], "up").ExitCode);
        var pair = rt.FindPair(board.PairNames[0]);
        Assert.True(Eventually.True(() => pair.CarrierUp), "pair carrier up");
        Thread.Sleep(200); // the flooder's poll sees the error (up to now it could not: the link was down)
        var after = TestFrames.Build(Broadcast, board.OutsideMac(0), 100, Frames + 1);
        Assert.True(Eventually.True(() =>
        {
            tx.Send(after);
            return FrameProbe.Collect(tenant, 1, 300).Count == 1;
        }), "a broadcast reached the tenant after the link came back");
        Assert.Null(rt.Flooder.Failure);
    }

    /// <summary>With no group traffic the flooder thread sleeps in poll() for good (no periodic wake-up: the kernel counts
    /// none of its voluntary context switches over two idle seconds; a 1 s timeout made two), and a broadcast still
    /// wakes it and reaches the tenant.</summary>
    [PrivilegedFact]
    public void AnIdleFlooderSleepsUntilAGroupFrameArrives()
    {
        using var board = new MetaBoard(ports: 1, tenants: 1);
        int pid = Environment.ProcessId;
        var others = ThreadWakeups.ThreadsNamed(pid, "group-flooder"); // an earlier test's, should one still be there
        var rt = board.Start([board.Port(0)], [board.Pair(0)]);
        int flooder = ThreadWakeups.ThreadsNamed(pid, "group-flooder").Except(others).Single();
        using var tenant = PacketSocket.Open(board.Tenants[0].Name, MetaBoard.TenantInterface, TestFrames.EtherType);
        using var tx = PacketSocket.Open(board.Outside.Name, MetaBoard.OutsideInterface(0), TestFrames.EtherType);
        var first = TestFrames.Build(Broadcast, board.OutsideMac(0), 100, 1);
        tx.Send(first);
        Assert.Equal([first], FrameProbe.Collect(tenant, 1, FrameProbe.Timeout)); // it runs and has slept at least once

        // Back asleep after the frame (it may still be sending it when the tenant has it).
        Assert.True(ThreadWakeups.Settle(pid, [flooder], out var settled), "the flooder never settled");
        long idleFrom = settled[0];
        Thread.Sleep(2500);
        Assert.Equal(idleFrom, ThreadWakeups.Of(pid, flooder));

        var second = TestFrames.Build(Broadcast, board.OutsideMac(0), 100, 2);
        tx.Send(second);
        Assert.Equal([second], FrameProbe.Collect(tenant, 1, FrameProbe.Timeout));
        // The kernel counts a voluntary switch when the thread goes back to sleep, which may be after the tenant has the frame.
        Assert.True(Eventually.True(() => ThreadWakeups.Of(pid, flooder) > idleFrom), "the broadcast woke the flooder");
        Assert.Equal(2, rt.Topology.Ports[0].Flooded);
    }

    [PrivilegedTheory]
    [InlineData(UnclaimedPolicy.Kernel)]
    [InlineData(UnclaimedPolicy.Drop)]
    public void UnclaimedUnicastFollowsThePortPolicy(UnclaimedPolicy policy)
    {
        using var board = new MetaBoard(ports: 1, tenants: 1);
        var rt = board.Start([board.Port(0, policy)], [board.Pair(0)]);
        using var kernel = PacketSocket.Open(null, board.Ports[0], TestFrames.EtherType);
        using var tenant = PacketSocket.Open(board.Tenants[0].Name, MetaBoard.TenantInterface, TestFrames.EtherType);
        using var tx = PacketSocket.Open(board.Outside.Name, MetaBoard.OutsideInterface(0), TestFrames.EtherType);
        byte[] nobody = [0x02, 0x99, 0, 0, 0, 0x42];
        var sent = Enumerable.Range(1, Frames).Select(i => TestFrames.Build(nobody, board.OutsideMac(0), 100, i)).ToList();
        foreach (var f in sent) tx.Send(f);

        var atKernel = FrameProbe.Collect(kernel, Frames, policy == UnclaimedPolicy.Kernel ? FrameProbe.Timeout : FrameProbe.Absence);
        if (policy == UnclaimedPolicy.Kernel) Assert.Equal(sent, atKernel);
        else Assert.Empty(atKernel);
        Assert.Empty(FrameProbe.Silence(tenant, 100));
        Assert.Equal(0, rt.Engine.CountersOf(0).RxPackets); // XDP decided: AF_XDP never saw them
    }
}
