using System.Buffers.Binary;
using Appliance.Config;
using Appliance.Datapath.Engine;
using Appliance.Datapath.Forwarding;
using Appliance.Datapath.Replay;
using Appliance.Datapath.Runtime;
using Appliance.Datapath.Tests.Runtime;
using Appliance.Datapath.Xsk;
using Xunit;

namespace Appliance.Datapath.Tests.Engine;

/// <summary>The forwarding worker's logic over in-process kernels (<see cref="FakeBoard"/>, no root): where frames
/// go and with which bytes, when it kicks, what it does with a full TX ring, completions, FILL, a port that vanishes,
/// hand-off between workers, ports added and removed, busy poll. The same code the appliance runs: the real worker
/// loop and <see cref="StaticForwarding"/>; only the kernel's side of each socket is played by the test. The real
/// kernel's version of these is in ForwardingEngineTests, MultiQueueEngineTests and WorkerFaultTests (root, veth).</summary>
public sealed class EngineWorkerTests
{
    [Theory]
    [InlineData(true)]  // one UMEM: descriptors move unchanged
    [InlineData(false)] // a UMEM per port: each frame is copied once into the target's
    public void Frames_go_out_on_their_target_port_with_their_bytes(bool shareUmem)
    {
        using var b = new FakeBoard(new StaticForwarding([2, 2, 0]), ports: 3, shareUmem: shareUmem);
        var toTwo = FakeBoard.Frames(0, 10);
        var fromOne = FakeBoard.Frames(50, 3);
        var toZero = FakeBoard.Frames(100, 5);
        Assert.Equal(10, b.Kernel(0).Deliver(toTwo));
        Assert.True(b.Kernel(1).Deliver(new byte[10])); // a runt
        Assert.Equal(3, b.Kernel(1).Deliver(fromOne));
        Assert.Equal(5, b.Kernel(2).Deliver(toZero));
        b.Settle();

        Assert.Equal(toTwo.Concat(fromOne), b.Kernel(2).Sent);
        Assert.Equal(toZero, b.Kernel(0).Sent);
        Assert.Empty(b.Kernel(1).Sent);
        Assert.Equal(10, b.Port(0).Counters.Forwarded);
        Assert.Equal(3, b.Port(1).Counters.Forwarded);
        Assert.Equal(1, b.Port(1).Counters.Drops(DropReason.InvalidFrame));
        Assert.Equal(4, b.Port(1).Counters.RxPackets);
        Assert.Equal(13, b.Port(2).Counters.TxPackets);
        Assert.Equal(toTwo.Sum(f => f.Length) + fromOne.Sum(f => f.Length), b.Port(2).Counters.TxBytes);
        var a = b.AssertClean();
        Assert.Equal(0, a.InTx); // every sent frame completed and was reaped
        Assert.Equal(b.Kernel(0).ReceiveHeld + b.Kernel(1).ReceiveHeld + b.Kernel(2).ReceiveHeld, a.InFill);
    }

    [Fact]
    public void Frames_with_no_target_are_dropped_and_returned()
    {
        using var b = new FakeBoard(new StaticForwarding([-1, 0]));
        Assert.Equal(7, b.Kernel(0).Deliver(FakeBoard.Frames(0, 7)));
        b.Settle();
        Assert.Equal(7, b.Port(0).Counters.Drops(DropReason.NoTarget));
        Assert.Empty(b.Kernel(1).Sent);
        Assert.Equal(b.Kernel(0).ReceiveHeld + b.Kernel(1).ReceiveHeld, b.AssertClean().InFill);
    }

    [Fact]
    public void The_worker_kicks_TX_once_per_batch_not_per_frame()
    {
        using var b = new FakeBoard(StaticForwarding.CrossConnect());
        var frames = FakeBoard.Frames(0, 2 * ForwardingEngine.Batch);
        Assert.Equal(frames.Length, b.Kernel(0).Deliver(frames));

        Assert.True(b.Turn());
        Assert.Equal(ForwardingEngine.Batch, b.Kernel(1).Sent.Length);
        Assert.Equal(1, b.Kernel(1).TxKicks);
        b.Settle();
        Assert.Equal(frames, b.Kernel(1).Sent);
        Assert.Equal(2, b.Kernel(1).TxKicks);
        Assert.Equal(2, b.Port(1).Counters.Kicks);
        Assert.Equal(0, b.Kernel(0).TxKicks); // nothing was put on port 0's TX ring

        b.Turn();
        Assert.Equal(2, b.Kernel(1).TxKicks); // an empty TX ring is not kicked
        b.AssertClean();
    }

    [Fact]
    public void The_worker_kicks_only_when_the_kernel_asks()
    {
        using var b = new FakeBoard(StaticForwarding.CrossConnect());
        b.Kernel(1).TxNeedsWakeup = false; // a driver that sends on its own
        Assert.Equal(10, b.Kernel(0).Deliver(FakeBoard.Frames(0, 10)));
        b.Settle();
        Assert.Equal(0, b.Kernel(1).TxKicks);
        Assert.Equal(10u, b.Kernel(1).TxWaiting);
        Assert.Equal(10, b.AssertClean().InTx);

        b.Kernel(1).TxNeedsWakeup = true;
        b.Turn();
        Assert.Equal(1, b.Kernel(1).TxKicks);
        Assert.Equal(10, b.Kernel(1).Sent.Length);
    }

    [Fact]
    public void A_kick_that_leaves_frames_on_TX_is_repeated_until_the_ring_is_empty()
    {
        using var b = new FakeBoard(StaticForwarding.CrossConnect());
        b.Kernel(1).TxBudget = 16; // copy mode sends at most its budget per sendto()
        var frames = FakeBoard.Frames(0, ForwardingEngine.Batch);
        Assert.Equal(frames.Length, b.Kernel(0).Deliver(frames));
        b.Turn();
        Assert.Equal(16, b.Kernel(1).Sent.Length);
        b.Settle();
        Assert.Equal(frames, b.Kernel(1).Sent);
        Assert.Equal(4, b.Kernel(1).TxKicks);
        Assert.Equal(0, b.AssertClean().InTx);
    }

    [Fact]
    public void A_full_TX_ring_drops_and_counts_the_rest_and_leaks_nothing()
    {
        using var b = new FakeBoard(StaticForwarding.CrossConnect(), txRing: 64);
        b.Kernel(1).StallTx = true;
        var frames = FakeBoard.Frames(0, 100);
        Assert.Equal(100, b.Kernel(0).Deliver(frames));
        b.Settle();

        Assert.Equal(64, b.Port(0).Counters.Forwarded);
        Assert.Equal(36, b.Port(0).Counters.Drops(DropReason.RingFull));
        Assert.Equal(100, b.Port(0).Counters.RxPackets);
        Assert.Equal(64u, b.Kernel(1).TxWaiting);
        Assert.Empty(b.Kernel(1).Sent);
        Assert.Equal(64, b.AssertClean().InTx);

        b.Kernel(1).StallTx = false;
        b.Settle();
        Assert.Equal(frames[..64], b.Kernel(1).Sent);
        Assert.Equal(0, b.AssertClean().InTx);
    }

    [Fact]
    public void Completions_return_the_sent_frames_to_the_free_stack()
    {
        using var b = new FakeBoard(StaticForwarding.CrossConnect());
        b.Kernel(1).HoldCompletions = true;
        Assert.Equal(20, b.Kernel(0).Deliver(FakeBoard.Frames(0, 20)));
        b.Settle();
        Assert.Equal(20, b.Kernel(1).Sent.Length);
        var held = b.AssertClean();
        Assert.Equal(20, held.InTx);

        Assert.Equal(20, b.Kernel(1).Complete());
        Assert.True(b.Turn()); // reaping is progress
        var after = b.AssertClean();
        Assert.Equal(0, after.InTx);
        Assert.Equal(held.Free + 20, after.Free);
        Assert.Equal(held.InFill, after.InFill);
        Assert.False(b.Turn());
    }

    [Fact]
    public void Fill_is_topped_up_to_the_port_share_after_a_receive()
    {
        using var b = new FakeBoard(StaticForwarding.CrossConnect());
        const int fill = (int)FakeBoard.FillFrames;
        Assert.Equal(FakeBoard.FillFrames, b.Kernel(0).FillWaiting);
        Assert.Equal(fill, b.Kernel(0).Deliver(FakeBoard.Frames(0, fill)));
        Assert.False(b.Kernel(0).Deliver(FakeBoard.Frames(fill, 1)[0])); // FILL is empty: the kernel drops
        Assert.Equal(1ul, b.Kernel(0).Statistics().RxFillRingEmptyDescs);
        b.Settle();
        Assert.Equal(FakeBoard.FillFrames, b.Kernel(0).FillWaiting);
        Assert.Equal(FakeBoard.FillFrames, b.Kernel(1).FillWaiting); // nothing taken, nothing posted
        Assert.Equal(fill, b.Kernel(0).Deliver(FakeBoard.Frames(fill, fill)));
        b.Settle();
        Assert.Equal(2 * fill, b.Kernel(1).Sent.Length);
        b.AssertClean();
    }

    [Fact]
    public void A_port_that_vanishes_mid_traffic_leaks_no_frame()
    {
        using var b = new FakeBoard(StaticForwarding.CrossConnect(), options: new EngineOptions { TxReclaimGrace = TimeSpan.Zero });
        b.Kernel(1).HoldCompletions = true; // frames in flight when it goes
        Assert.Equal(30, b.Kernel(0).Deliver(FakeBoard.Frames(0, 30)));
        b.Settle();
        Assert.Equal(30, b.AssertClean().InTx);

        b.Kernel(1).GoDown(); // unregistered: its FILL and TX frames never come back
        Assert.Equal(20, b.Kernel(0).Deliver(FakeBoard.Frames(30, 20)));
        b.CheckHealth();
        Assert.True(b.Port(1).IsDown);
        Assert.Contains("ENETDOWN", b.Port(1).DownReason);
        Assert.Contains(b.Log, l => l.Contains("port 1") && l.Contains("is down"));
        b.Settle();
        Assert.Equal(20, b.Port(0).Counters.Drops(DropReason.TargetDown));
        Assert.Equal(30, b.Port(0).Counters.Forwarded);
        var pending = b.AssertClean(); // its receive frames are back; the TX ones wait for the grace
        Assert.Equal(30, pending.InTx);
        Assert.Equal(b.Kernel(0).ReceiveHeld, pending.InFill); // port 1's are back on the free stack

        Assert.Equal(10, b.Kernel(1).Complete(10)); // late completions of a port gone down are still reaped
        b.Settle();
        Assert.Equal(20, b.AssertClean().InTx);

        b.CheckHealth();
        Assert.Equal(0, b.AssertClean().InTx);
        Assert.Equal(1, b.Kernel(1).TxKicks); // one kick before it went, none to a port that is down
    }

    [Fact]
    public void A_frame_for_an_interface_another_worker_serves_is_handed_to_it()
    {
        // Port 0 has a queue per worker, port 1 one queue (worker 0's): worker 1's frames for port 1 cross over.
        using var b = new FakeBoard(StaticForwarding.CrossConnect(), [(0, 0), (0, 1), (1, 0)]);
        var frames = FakeBoard.Frames(0, 10);
        Assert.Equal(10, b.Kernel(0, worker: 1).Deliver(frames));
        Assert.True(b.Turn(worker: 1));
        Assert.Equal(10, b.Engine.HandedOffBy(1));
        Assert.Equal(10, b.Port(0, worker: 1).Counters.Forwarded);
        Assert.Empty(b.Kernel(1).Sent);

        b.Settle(worker: 0);
        Assert.Equal(frames, b.Kernel(1).Sent);
        Assert.Equal(10, b.Engine.HandOffCountersOf(0).RxPackets);
        Assert.Equal(10, b.Engine.HandOffCountersOf(0).Forwarded);
        Assert.Equal(0, b.Engine.HandOffCountersOf(0).TotalDrops);

        var back = FakeBoard.Frames(100, 4); // worker 0 has its own socket of port 0: no hand-off
        Assert.Equal(4, b.Kernel(1).Deliver(back));
        b.Settle(worker: 0);
        Assert.Equal(back, b.Kernel(0, worker: 0).Sent);
        Assert.Empty(b.Kernel(0, worker: 1).Sent);
        Assert.Equal(0, b.Engine.HandedOffBy(0));
        b.Settle(worker: 1);
        b.AssertClean();
    }

    [Theory]
    [InlineData(true)]  // on the shared UMEM: its FILL and TX frames are reclaimed there
    [InlineData(false)] // with a UMEM of its own: freed with it
    public void A_port_added_and_removed_between_batches_leaks_nothing(bool onSharedUmem)
    {
        using var b = new FakeBoard(new StaticForwarding([2, 0, 0]));
        Assert.Equal(5, b.Kernel(0).Deliver(FakeBoard.Frames(0, 5)));
        b.Settle();
        Assert.Equal(5, b.Port(0).Counters.Drops(DropReason.NoTarget));

        var umem = onSharedUmem ? b.Port(0).Umem : FakeBoard.NewUmem("added", 1);
        using var kernel = new FakeKernel(umem, "added");
        b.Engine.AddPort(XskPort.Over(2, kernel, umem, ownsUmem: !onSharedUmem, FakeBoard.FillFrames));
        var frames = FakeBoard.Frames(10, 8);
        Assert.Equal(8, b.Kernel(0).Deliver(frames));
        b.Settle();
        Assert.Equal(frames, kernel.Sent);
        b.AssertClean();

        kernel.HoldCompletions = true;
        Assert.Equal(6, b.Kernel(0).Deliver(FakeBoard.Frames(20, 6)));
        b.Settle();
        Assert.Equal(6, b.AssertClean().InTx);
        b.Engine.RemovePort(2);
        Assert.Equal(2, b.Engine.Ports.Count);
        var a = b.AssertClean();
        Assert.Equal(0, a.InTx);
        Assert.Equal(b.Kernel(0).ReceiveHeld + b.Kernel(1).ReceiveHeld, a.InFill);

        Assert.Equal(3, b.Kernel(0).Deliver(FakeBoard.Frames(30, 3)));
        b.Settle();
        Assert.Equal(8, b.Port(0).Counters.Drops(DropReason.NoTarget));
        Assert.Equal(14, kernel.Sent.Length);
    }

    [Fact]
    public void Busy_poll_kicks_RX_only_while_batches_come_full()
    {
        using var b = new FakeBoard(StaticForwarding.CrossConnect(), busyPoll: p => p == 0);
        Assert.Equal(ForwardingEngine.Batch, b.Kernel(0).Deliver(FakeBoard.Frames(0, ForwardingEngine.Batch)));
        b.Turn();
        Assert.Equal(1, b.Kernel(0).RxKicks);
        Assert.Equal(1, b.Port(0).Counters.BusyPolls);

        Assert.Equal(10, b.Kernel(0).Deliver(FakeBoard.Frames(100, 10)));
        b.Settle();
        b.Turn();
        Assert.Equal(1, b.Kernel(0).RxKicks);
        Assert.Equal(0, b.Kernel(1).RxKicks); // busy poll is off there
        b.AssertClean();
    }

    [Fact]
    public void Busy_poll_is_switched_off_for_a_socket_with_no_NAPI_instance()
    {
        using var b = new FakeBoard(StaticForwarding.CrossConnect(), busyPoll: _ => true);
        b.Kernel(0).Napi = 0; // a veth since Linux 6.13: nothing for a busy poll to run
        for (int round = 0; round < 3; round++)
        {
            Assert.Equal(ForwardingEngine.Batch, b.Kernel(0).Deliver(FakeBoard.Frames(round * 100, ForwardingEngine.Batch)));
            b.Turn();
        }
        Assert.Equal(0, b.Kernel(0).RxKicks);
        Assert.Equal(0, b.Port(0).Counters.BusyPolls);
        Assert.False(b.Port(0).BusyPoll);
        Assert.True(b.Port(0).BusyPollUnavailable);
        Assert.Contains("no busy poll", b.Port(0).Describe());
        Assert.Equal(1, b.Kernel(0).NapiIdCalls); // asked once, not per batch

        // The other port names its NAPI instance: it keeps busy polling, asking only once too.
        for (int round = 0; round < 2; round++)
        {
            Assert.Equal(ForwardingEngine.Batch, b.Kernel(1).Deliver(FakeBoard.Frames(1000 + round * 100, ForwardingEngine.Batch)));
            b.Turn();
        }
        Assert.Equal(2, b.Kernel(1).RxKicks);
        Assert.True(b.Port(1).BusyPoll);
        Assert.Equal(1, b.Kernel(1).NapiIdCalls);
        b.Settle();
        b.AssertClean();
    }

    [Fact]
    public void A_zero_copy_port_gets_an_RX_wakeup_when_its_fill_ring_asks()
    {
        using var b = new FakeBoard(StaticForwarding.CrossConnect(), bindMode: p => p == 0 ? XskBindMode.ZeroCopy : XskBindMode.Copy);
        b.Turn();
        Assert.Equal(0, b.Kernel(0).RxKicks);
        b.Kernel(0).FillNeedsWakeup = true;
        b.Kernel(1).FillNeedsWakeup = true; // copy mode: the flag is not the worker's business
        b.Turn();
        b.Turn();
        Assert.Equal(2, b.Kernel(0).RxKicks);
        Assert.Equal(0, b.Kernel(1).RxKicks);
    }

    [Fact]
    public void The_pair_handler_runs_its_chains_on_frames_the_engine_moves()
    {
        // Engine port 0 is eth0, port 1 pair a's primary end; the tenant's frames go through the peer chain (UDP 53 only).
        string dir = TestObjects.Directory;
        string file = Path.Combine(dir, $"engine-pair-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, $$"""
            {
              "board": "test",
              "ports": [{ "name": "eth0" }],
              "pairs": [{ "name": "a", "mode": "l2", "uplink": "eth0", "tenant": { "netns": "ta", "interface": "eth0", "mac": "02:00:00:00:0a:02" },
                          "peer": { "chain": [{ "program": "allow-dns" }] } }],
              "programs": [{ "name": "allow-dns", "object": "{{dir}}/allow_port.bpf.o", "section": "netkit/peer",
                             "maps": { "allowed_ports": [{ "key": 53, "value": 0 }] } }]
            }
            """);
        var config = ConfigLoader.LoadFile(file);
        File.Delete(file);
        Assert.True(config.IsValid, string.Join("\n", config.Errors));
        var offline = OfflineTopology.Build(config.Config!, dir);
        using var handler = new PairFrameHandler(new TopologySource(offline.Topology));
        using var b = new FakeBoard(handler);

        byte[] tenant = [2, 0, 0, 0, 0x0a, 2], outside = [2, 0, 0, 0, 0, 0x99];
        byte[] dns = Udp(outside, tenant, 53), ssh = Udp(outside, tenant, 22), reply = Udp(tenant, outside, 4000);
        Assert.Equal(3, b.Kernel(1).Deliver([dns, ssh, dns]));
        Assert.True(b.Kernel(0).Deliver(reply));
        b.Settle();

        Assert.Equal([dns, dns], b.Kernel(0).Sent);
        Assert.Equal([reply], b.Kernel(1).Sent);
        Assert.Equal(1, b.Port(1).Counters.Drops(DropReason.Policy));
        Assert.Equal(1, offline.Topology.Pairs[0].Peer.Counters.Drops(PairDropReason.Verdict));
        b.AssertClean();
    }

    /// <summary>Ethernet + IPv4 + UDP from port 4000 to <paramref name="port"/>, 8 payload bytes.</summary>
    private static byte[] Udp(byte[] dst, byte[] src, ushort port)
    {
        var udp = new byte[16];
        BinaryPrimitives.WriteUInt16BigEndian(udp, 4000);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(2), port);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(4), 16);
        return TestFrames.Ip(dst, src, [10, 0, 0, 2], [10, 0, 0, 1], 17, udp);
    }

    private static byte[][] Poisoned(byte[][] frames, Func<int, bool> poison) =>
        [.. frames.Select((f, i) => FaultyHandler.Poison(f, poison(i)))];

    [Fact]
    public void A_decision_that_throws_drops_only_its_frame()
    {
        using var b = new FakeBoard(new FaultyHandler());
        var frames = Poisoned(FakeBoard.Frames(0, 30), i => i % 3 == 1);
        Assert.Equal(30, b.Kernel(0).Deliver(frames));
        b.Settle();
        Assert.Equal(frames.Where((_, i) => i % 3 != 1), b.Kernel(1).Sent);
        Assert.Equal(10, b.Port(0).Counters.Drops(DropReason.InternalError));
        Assert.Equal(10, b.Engine.HandlerFaults);
        b.AssertClean();
    }

    [Fact]
    public void A_fault_escaping_the_loop_restarts_it_and_the_interrupted_batch_is_dropped_and_returned()
    {
        var handler = new FaultyHandler { FailBatches = 1 };
        using var b = new FakeBoard(handler, options: new EngineOptions { IdleSpins = 10 });
        var lost = Poisoned(FakeBoard.Frames(0, 10), _ => false);
        Assert.Equal(10, b.Kernel(0).Deliver(lost)); // waiting before the worker starts: its first batch, all ten
        b.Engine.Start();
        EngineHarness.WaitUntil(() => b.Engine.WorkerRestarts == 1 && b.Kernel(0).ClearReadableIfDrained(), TimeSpan.FromSeconds(10),
            "the worker to restart");
        Assert.Equal(10, b.Port(0).Counters.Drops(DropReason.InternalError));
        Assert.Empty(b.Kernel(1).Sent);

        var frames = Poisoned(FakeBoard.Frames(10, 10), _ => false);
        Assert.Equal(10, b.Kernel(0).Deliver(frames));
        EngineHarness.WaitUntil(() => b.Kernel(0).ClearReadableIfDrained() && b.Kernel(1).Sent.Length == 10,
            TimeSpan.FromSeconds(10), "the frames after the restart to go out");
        Assert.Equal(frames, b.Kernel(1).Sent);
        Assert.True(b.Engine.IsRunning);
        Assert.Contains("injected batch fault", b.Engine.LastFault);
        b.AssertClean();
    }

    [Fact]
    public void The_running_engine_sleeps_until_a_socket_has_frames_then_forwards_them()
    {
        using var b = new FakeBoard(StaticForwarding.CrossConnect(), options: new EngineOptions { IdleSpins = 10 });
        b.Engine.Start();
        EngineHarness.WaitUntil(() => b.Engine.Polls > 0, TimeSpan.FromSeconds(10), "the worker to sleep in poll()");
        var frames = FakeBoard.Frames(0, 40);
        Assert.Equal(40, b.Kernel(0).Deliver(frames)); // only the socket's readiness wakes it now
        EngineHarness.WaitUntil(() => b.Kernel(0).ClearReadableIfDrained() && b.Kernel(1).Sent.Length == 40,
            TimeSpan.FromSeconds(10), "the frames to go out");
        Assert.Equal(frames, b.Kernel(1).Sent);
        Assert.Equal(40, b.Port(0).Counters.Forwarded);
        b.AssertClean();
    }
}
