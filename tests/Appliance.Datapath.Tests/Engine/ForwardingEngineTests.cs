using System.Diagnostics;
using Appliance.Datapath.Engine;
using Appliance.Datapath.Links;
using Appliance.Datapath.Xdp;
using Appliance.Datapath.Xsk;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Datapath.Tests.Engine;

/// <summary>The engine in-process between two veth pairs: ns-a [a0]=[In] engine [Out]=[b0] ns-b.</summary>
[Collection(KernelCollection.Name)]
public sealed class ForwardingEngineTests
{
    private static readonly int[] Sizes = [60, 61, 64, 65, 100, 127, 128, 256, 511, 512, 1000, 1024, 1280, 1499, 1500, 1513, 1514];

    [PrivilegedTheory]
    [InlineData(4096u, true)]
    [InlineData(2048u, true)]
    [InlineData(4096u, false)] // a UMEM per port: every frame crosses UMEMs with one copy
    public void Frames_of_60_to_1514_bytes_cross_byte_identical_in_both_directions(uint frameSize, bool shareUmem)
    {
        using var t = new ForwardTopology();
        using var h = new EngineHarness(t, options: new XskOptions { FrameSize = frameSize, ShareCopyUmem = shareUmem });
        Assert.Equal(shareUmem, ReferenceEquals(h.Engine.Ports[0].Umem, h.Engine.Ports[1].Umem));
        Assert.Equal(frameSize, h.Engine.Ports[0].Umem.FrameSize);
        byte[] macA = ForwardTopology.ParseMac(t.MacOf(t.NsA, ForwardTopology.TenantA));
        byte[] macB = ForwardTopology.ParseMac(t.MacOf(t.NsB, ForwardTopology.TenantB));
        using var sockA = PacketSocket.Open(t.NsA.Name, ForwardTopology.TenantA, TestFrames.EtherType);
        using var sockB = PacketSocket.Open(t.NsB.Name, ForwardTopology.TenantB, TestFrames.EtherType);
        var buf = new byte[4096];
        long bytes = 0;

        for (int i = 0; i < Sizes.Length; i++)
        {
            var frame = TestFrames.Build(macB, macA, Sizes[i], i);
            sockA.Send(frame);
            int n = sockB.Receive(buf, 5000);
            Assert.True(n > 0, $"frame of {Sizes[i]} B did not arrive at {ForwardTopology.TenantB}");
            Assert.Equal(frame, buf[..n]);
            bytes += frame.Length;
        }
        for (int i = 0; i < Sizes.Length; i++)
        {
            var frame = TestFrames.Build(macA, macB, Sizes[i], 1000 + i);
            sockB.Send(frame);
            int n = sockA.Receive(buf, 5000);
            Assert.True(n > 0, $"frame of {Sizes[i]} B did not arrive back at {ForwardTopology.TenantA}");
            Assert.Equal(frame, buf[..n]);
        }

        Assert.Equal(Sizes.Length, h.In.RxPackets);
        Assert.Equal(bytes, h.In.RxBytes);
        Assert.Equal(Sizes.Length, h.Out.TxPackets);
        Assert.Equal(bytes, h.Out.TxBytes);
        Assert.Equal(Sizes.Length, h.Out.RxPackets);
        Assert.Equal(Sizes.Length, h.In.TxPackets);
        Assert.Equal(0, h.In.TotalDrops + h.Out.TotalDrops);
        h.AssertNoFrameLeaked();
    }

    [PrivilegedFact]
    public void Veth_ports_report_native_xdp_and_copy_mode_on_one_shared_umem()
    {
        using var t = new ForwardTopology();
        using var h = new EngineHarness(t);
        foreach (var p in h.Engine.Ports)
        {
            Assert.Equal(XskBindMode.Copy, p.BindMode); // veth has no AF_XDP zero-copy: auto fell back
            Assert.Equal(XdpAttachMode.Native, p.Steering!.Mode);
            Assert.True(p.Steering.ViaBpfLink);
            Assert.Contains("copy mode", p.Describe());
        }
        Assert.Same(h.Engine.Ports[0].Umem, h.Engine.Ports[1].Umem);
        Assert.Contains(h.Log, l => l.Contains("no AF_XDP zero-copy"));
        Assert.Contains("prog/xdp", Shell.Check("ip", "-d", "link", "show", t.In));
    }

    [PrivilegedFact]
    public void A_burst_of_one_million_frames_crosses_and_no_frame_leaks()
    {
        const int count = 1_000_000;
        using var t = new ForwardTopology();
        using var h = new EngineHarness(t);
        byte[] macA = ForwardTopology.ParseMac(t.MacOf(t.NsA, ForwardTopology.TenantA));
        byte[] macB = ForwardTopology.ParseMac(t.MacOf(t.NsB, ForwardTopology.TenantB));
        using var sockA = PacketSocket.Open(t.NsA.Name, ForwardTopology.TenantA, TestFrames.EtherType);
        long before = ForwardTopology.Counter(t.NsB, ForwardTopology.TenantB, "rx_packets");
        var frame = TestFrames.Build(macB, macA, 64, 7);

        // Flow control: at most 128 frames between a0 and the engine, so no kernel ring (veth 256, XSK RX 2048)
        // can overflow and every frame must arrive.
        var stall = Stopwatch.StartNew();
        long lastRx = 0;
        for (int i = 0; i < count; i++)
        {
            while (i - h.In.RxPackets > 128)
            {
                long rx = h.In.RxPackets;
                if (rx != lastRx) { lastRx = rx; stall.Restart(); }
                else if (stall.Elapsed > TimeSpan.FromSeconds(10))
                    Assert.Fail($"engine stopped receiving at {rx} of {i} sent; {h.Engine.Ports[0].Statistics()}");
                Thread.Yield(); // let ksoftirqd (the veth NAPI) run on this CPU
            }
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(14), i);
            sockA.Send(frame);
        }
        EngineHarness.WaitUntil(() => ForwardTopology.Counter(t.NsB, ForwardTopology.TenantB, "rx_packets") - before >= count,
            TimeSpan.FromSeconds(30), $"{count} frames at {ForwardTopology.TenantB}");

        long delivered = ForwardTopology.Counter(t.NsB, ForwardTopology.TenantB, "rx_packets") - before;
        Assert.Equal(count, delivered);
        Assert.Equal(count, h.In.RxPackets);
        Assert.Equal(count, h.Out.TxPackets);
        Assert.Equal(64L * count, h.Out.TxBytes);
        Assert.Equal(0, h.In.TotalDrops);
        var kernel = h.Engine.Ports[0].Statistics();
        Assert.Equal(0UL, kernel.RxDropped + kernel.RxRingFull);
        h.AssertNoFrameLeaked();
    }

    [PrivilegedFact]
    public void Far_interface_deleted_mid_traffic_the_engine_keeps_running_and_counts_drops()
    {
        using var t = new ForwardTopology();
        using var h = new EngineHarness(t);
        byte[] macA = ForwardTopology.ParseMac(t.MacOf(t.NsA, ForwardTopology.TenantA));
        byte[] macB = ForwardTopology.ParseMac(t.MacOf(t.NsB, ForwardTopology.TenantB));
        using var sockA = PacketSocket.Open(t.NsA.Name, ForwardTopology.TenantA, TestFrames.EtherType);

        using var sending = new CancellationTokenSource();
        long sent = 0;
        var sender = Task.Run(() =>
        {
            var frame = TestFrames.Build(macB, macA, 200, 1);
            while (!sending.IsCancellationRequested)
            {
                sockA.Send(frame);
                Interlocked.Increment(ref sent);
                Thread.Sleep(1);
            }
        });
        EngineHarness.WaitUntil(() => h.Out.TxPackets >= 50, TimeSpan.FromSeconds(10), "traffic through the engine");

        t.NsB.Exec("ip", "link", "del", ForwardTopology.TenantB); // takes the appliance end with it
        EngineHarness.WaitUntil(() => h.Engine.Ports[1].IsDown, TimeSpan.FromSeconds(10), "the engine to notice");
        EngineHarness.WaitUntil(() => h.In.Drops(DropReason.TargetDown) >= 50, TimeSpan.FromSeconds(10), "TargetDown drops");
        sending.Cancel();
        sender.Wait();

        Assert.True(h.Engine.IsRunning);
        Assert.Null(h.Engine.WorkerFailure);
        Assert.Contains(h.Log, l => l.Contains(t.Out) && l.Contains("is down"));
        Assert.Contains("ENETDOWN", h.Engine.Ports[1].DownReason);
        EngineHarness.WaitUntil(() => h.In.RxPackets == Interlocked.Read(ref sent), TimeSpan.FromSeconds(10), "the last frames");
        // Every received frame was either transmitted before the deletion or counted as a drop.
        Assert.Equal(h.In.RxPackets, h.Out.TxPackets + h.In.TotalDrops);
        h.AssertNoFrameLeaked();
    }

    [PrivilegedFact]
    public void An_idle_engine_on_a_shared_watcher_notices_its_deleted_interface_and_leaves_the_watcher_when_stopped()
    {
        using var t = new ForwardTopology(); // IPv6 off: no frame wakes the worker, only the watcher can
        using var links = new LinkWatcher();
        using (var h = new EngineHarness(t, links: links))
        {
            Assert.Equal(1, links.Subscribers);
            // Asleep first: a worker still spinning would find the deletion at its own health check, watcher or not.
            EngineHarness.WaitUntil(() => h.Engine.Polls > 0, TimeSpan.FromSeconds(10), "the worker to sleep in poll()");
            t.NsB.Exec("ip", "link", "del", ForwardTopology.TenantB); // takes the appliance end with it
            EngineHarness.WaitUntil(() => h.Engine.Ports[1].IsDown && h.Log.Any(l => l.Contains(t.Out) && l.Contains("is down")),
                TimeSpan.FromSeconds(20), "the idle engine to notice its deleted interface");
            Assert.DoesNotContain(h.Log, l => l.Contains("link watcher"));
        }
        Assert.Equal(0, links.Subscribers); // stopped, the engine left the shared watcher running for its owner
    }

    [PrivilegedFact]
    public void An_interface_deleted_before_the_engine_starts_is_noticed_when_it_starts()
    {
        // Its sockets are open, but the deletion comes before the engine listens to the watcher, and no timed health
        // check and no frame (IPv6 off) would ever make the idle worker look: only the check at start finds it.
        using var t = new ForwardTopology();
        using var links = new LinkWatcher();
        using var h = new EngineHarness(t, links: links, engine: new EngineOptions { HealthInterval = TimeSpan.FromHours(1) }, start: false);
        t.NsB.Exec("ip", "link", "del", ForwardTopology.TenantB);
        Assert.True(Eventually.True(() => !Directory.Exists($"/sys/class/net/{t.Out}"), 10_000), "the appliance end goes with its peer");
        h.Engine.Start();
        // The worker sets the flag, then logs: wait for both.
        EngineHarness.WaitUntil(() => h.Engine.Ports[1].IsDown && h.Log.Any(l => l.Contains(t.Out) && l.Contains("is down")),
            TimeSpan.FromSeconds(20), "the engine to notice the interface deleted before it started");
    }

    /// <summary>A decision that pushes 4 bytes in front of the frame (as a VLAN push would).</summary>
    private sealed class PushFourBytes : IFrameHandler
    {
        public FrameVerdict Decide(ref FrameView frame)
        {
            int headroom = frame.Headroom;
            if (!frame.AdjustHead(-4)) return FrameVerdict.Drop(DropReason.Policy);
            if (frame.Headroom != headroom - 4) return FrameVerdict.Drop(DropReason.Policy);
            frame.Data[..4].Fill(0xAB);
            return FrameVerdict.Forward(1 - frame.IngressPort);
        }
    }

    [PrivilegedFact]
    public void A_decision_can_grow_the_frame_into_the_headroom()
    {
        using var t = new ForwardTopology();
        using var h = new EngineHarness(t, new PushFourBytes());
        byte[] macA = ForwardTopology.ParseMac(t.MacOf(t.NsA, ForwardTopology.TenantA));
        byte[] macB = ForwardTopology.ParseMac(t.MacOf(t.NsB, ForwardTopology.TenantB));
        using var sockA = PacketSocket.Open(t.NsA.Name, ForwardTopology.TenantA, TestFrames.EtherType);
        // The receiver sees the pushed bytes as the start of the header, so capture every EtherType (0x0003).
        using var sockB = PacketSocket.Open(t.NsB.Name, ForwardTopology.TenantB, 0x0003);
        var frame = TestFrames.Build(macB, macA, 100, 3);
        sockA.Send(frame);
        var buf = new byte[2048];
        int n = sockB.Receive(buf, 5000);
        Assert.Equal(104, n);
        Assert.Equal(new byte[] { 0xAB, 0xAB, 0xAB, 0xAB }, buf[..4]);
        Assert.Equal(frame, buf[4..n]);
        h.AssertNoFrameLeaked();
    }

    [PrivilegedFact]
    public void A_worker_pinned_to_a_cpu_forwards_and_an_impossible_cpu_is_reported()
    {
        using var t = new ForwardTopology();
        using (var pinned = new EngineHarness(t, cpu: 0))
        {
            byte[] macA = ForwardTopology.ParseMac(t.MacOf(t.NsA, ForwardTopology.TenantA));
            byte[] macB = ForwardTopology.ParseMac(t.MacOf(t.NsB, ForwardTopology.TenantB));
            using var sockA = PacketSocket.Open(t.NsA.Name, ForwardTopology.TenantA, TestFrames.EtherType);
            using var sockB = PacketSocket.Open(t.NsB.Name, ForwardTopology.TenantB, TestFrames.EtherType);
            var frame = TestFrames.Build(macB, macA, 300, 9);
            sockA.Send(frame);
            var buf = new byte[2048];
            int n = sockB.Receive(buf, 5000);
            Assert.Equal(frame, buf[..Math.Max(n, 0)]);
            Assert.True(pinned.Engine.IsRunning);
        }
        using var impossible = new EngineHarness(t, cpu: 1023);
        EngineHarness.WaitUntil(() => !impossible.Engine.IsRunning, TimeSpan.FromSeconds(10), "the worker to give up");
        Assert.Contains("sched_setaffinity", impossible.Engine.WorkerFailure?.Message);
        Assert.Contains(impossible.Log, l => l.Contains("CPU 1023"));
    }

    /// <summary>A busy-polling worker never sleeps in poll(); when its rings stay empty it gives its core away
    /// (sched_yield) once every <see cref="EngineOptions.BusyPollYieldSpins"/> empty loops, so a producer sharing the core
    /// gets it (bench/workers.sh: 2 workers each beside a generator delivered half of 1 worker while they spun), and it
    /// still forwards every frame. With 0 it never yields.</summary>
    [PrivilegedTheory]
    [InlineData(64)]
    [InlineData(0)]
    public void A_busy_polling_worker_yields_its_core_while_its_rings_stay_empty(int yieldSpins)
    {
        using var t = new ForwardTopology();
        using var h = new EngineHarness(t, engine: new EngineOptions { BusyPoll = true, BusyPollYieldSpins = yieldSpins });
        EngineHarness.WaitUntil(() => h.Engine.Loops > 100_000, TimeSpan.FromSeconds(20), "the worker to spin");
        byte[] macA = ForwardTopology.ParseMac(t.MacOf(t.NsA, ForwardTopology.TenantA));
        byte[] macB = ForwardTopology.ParseMac(t.MacOf(t.NsB, ForwardTopology.TenantB));
        using var sockA = PacketSocket.Open(t.NsA.Name, ForwardTopology.TenantA, TestFrames.EtherType);
        using var sockB = PacketSocket.Open(t.NsB.Name, ForwardTopology.TenantB, TestFrames.EtherType);
        var buf = new byte[2048];
        for (int i = 0; i < 20; i++)
        {
            var frame = TestFrames.Build(macB, macA, 100, i);
            sockA.Send(frame);
            int n = sockB.Receive(buf, 5000);
            Assert.Equal(frame, buf[..Math.Max(n, 0)]);
        }
        Assert.Equal(20, h.Out.TxPackets);
        h.AssertNoFrameLeaked();
        h.Engine.Stop(); // the counters stand still from here
        long loops = h.Engine.Loops, yields = h.Engine.Yields;
        Assert.Equal(0, h.Engine.Polls); // busy polling: never asleep
        if (yieldSpins == 0) Assert.Equal(0, yields);
        else
        {
            // Almost every loop is empty: one yield per yieldSpins of them (each of the few loops that moved frames
            // restarts the count, losing fewer than yieldSpins).
            Assert.True(yields > 0, $"{loops} loops, no yield");
            Assert.InRange(yields, (loops - 4096) / yieldSpins - 1, loops / yieldSpins);
        }
    }

    /// <summary>A busy poll (recvfrom) runs the NAPI instance the socket's frames came from. A veth's XDP queue names
    /// none since Linux 6.13, and there every recvfrom cost a syscall per batch for nothing (the meta-pair bench spent
    /// ~3 % of the forwarding core in them): the worker asks the socket once, when its first batch comes full, and
    /// busy-polls only where the kernel names an instance.</summary>
    [PrivilegedFact]
    public void Busy_poll_runs_only_where_the_socket_names_a_NAPI_instance()
    {
        using var t = new ForwardTopology();
        using var h = new EngineHarness(t, start: false);
        var port = h.Engine.Ports[0];
        Assert.True(port.BusyPoll, "the kernel refused the busy-poll options");
        byte[] macA = ForwardTopology.ParseMac(t.MacOf(t.NsA, ForwardTopology.TenantA));
        byte[] macB = ForwardTopology.ParseMac(t.MacOf(t.NsB, ForwardTopology.TenantB));
        using (var sockA = PacketSocket.Open(t.NsA.Name, ForwardTopology.TenantA, TestFrames.EtherType))
            for (int i = 0; i < 2 * ForwardingEngine.Batch; i++) sockA.Send(TestFrames.Build(macB, macA, 100, i));
        // Waiting in the RX ring before the worker starts: its first batch comes full.
        h.Engine.Start();
        EngineHarness.WaitUntil(() => h.Out.TxPackets == 2 * ForwardingEngine.Batch, TimeSpan.FromSeconds(10), "the frames to go through");
        h.Engine.Stop();
        uint napi = port.Kernel.NapiId();
        if (napi == 0)
        {
            Assert.False(port.BusyPoll);
            Assert.True(port.BusyPollUnavailable);
            Assert.Equal(0, port.Counters.BusyPolls);
            Assert.Contains("no busy poll (no NAPI instance)", port.Describe());
            Assert.Single(h.Log, l => l.Contains("no busy poll (no NAPI instance)")); // said once, where the log goes
        }
        else
        {
            Assert.True(port.BusyPoll);
            Assert.True(port.Counters.BusyPolls > 0, "a full batch and no busy poll");
        }
        h.AssertNoFrameLeaked();
    }

    /// <summary>What the kernel drops on a port's AF_XDP sockets before a worker sees it (XDP_STATISTICS) is the port's
    /// to report (`stats`' KERNEL DROPS, `stats --json`'s xsk, the xsk metrics): frames arriving while the worker is
    /// not reading overflow the RX ring and are counted there, and a started worker takes what the ring held.</summary>
    [PrivilegedFact]
    public void The_kernels_drops_on_a_ports_sockets_are_counted_per_port()
    {
        using var t = new ForwardTopology();
        using var h = new EngineHarness(t, options: new XskOptions { RxRingSize = 64 }, start: false);
        Assert.Equal(0UL, h.Engine.KernelStatisticsOf(0).RxLost);
        byte[] macA = ForwardTopology.ParseMac(t.MacOf(t.NsA, ForwardTopology.TenantA));
        byte[] macB = ForwardTopology.ParseMac(t.MacOf(t.NsB, ForwardTopology.TenantB));
        const int sent = 200;
        using (var sockA = PacketSocket.Open(t.NsA.Name, ForwardTopology.TenantA, TestFrames.EtherType))
            for (int i = 0; i < sent; i++) sockA.Send(TestFrames.Build(macB, macA, 100, i));
        // The kernel's count is taken when it drops, before any worker runs.
        EngineHarness.WaitUntil(() => h.Engine.KernelStatisticsOf(0).RxRingFull >= sent - 64, TimeSpan.FromSeconds(10), "the kernel to count the ring-full drops");
        var k = h.Engine.KernelStatisticsOf(0);
        Assert.Equal(0UL, k.RxInvalidDescs);
        Assert.Equal(0UL, h.Engine.KernelStatisticsOf(1).RxLost); // the other port received nothing
        h.Engine.Start();
        EngineHarness.WaitUntil(() => h.Out.TxPackets + (long)k.RxLost >= sent, TimeSpan.FromSeconds(10), "the ring's frames to go through");
        Assert.Equal(sent, h.In.RxPackets + (long)k.RxLost); // each frame either reached the worker or the kernel counted it
        h.Engine.Stop();
        h.AssertNoFrameLeaked();
    }

    [PrivilegedFact]
    public void Generic_xdp_mode_forwards_too()
    {
        using var t = new ForwardTopology();
        using var h = new EngineHarness(t, xdpMode: XdpModePreference.Generic);
        Assert.All(h.Engine.Ports, p => Assert.Equal(XdpAttachMode.Generic, p.Steering!.Mode));
        Assert.Contains("xdpgeneric", Shell.Check("ip", "link", "show", t.In));
        byte[] macA = ForwardTopology.ParseMac(t.MacOf(t.NsA, ForwardTopology.TenantA));
        byte[] macB = ForwardTopology.ParseMac(t.MacOf(t.NsB, ForwardTopology.TenantB));
        using var sockA = PacketSocket.Open(t.NsA.Name, ForwardTopology.TenantA, TestFrames.EtherType);
        using var sockB = PacketSocket.Open(t.NsB.Name, ForwardTopology.TenantB, TestFrames.EtherType);
        var buf = new byte[2048];
        foreach (int size in new[] { 60, 1514 })
        {
            var frame = TestFrames.Build(macB, macA, size, size);
            sockA.Send(frame);
            int n = sockB.Receive(buf, 5000);
            Assert.Equal(frame, buf[..Math.Max(n, 0)]);
        }
        h.AssertNoFrameLeaked();
    }
}
