using System.Buffers.Binary;
using System.Diagnostics;
using Appliance.Config;
using Appliance.Datapath.Engine;
using Appliance.Datapath.Runtime;
using Appliance.Datapath.Tests.Engine;
using Appliance.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Appliance.Datapath.Tests.Runtime;

/// <summary>`run`'s datapath with several forwarding workers: the pairs' veths are made with one queue per worker, a
/// port uses its queues (one socket each), each worker has its own frame handler and eBPF VM running as its CPU.
/// Many UDP flows cross a port and a pair in both directions; every frame arrives exactly once and in order per
/// flow, the work spreads over the workers, per-CPU map slots are the workers' own and sum to the runs, and the frame
/// ledger balances. With a one-queue port the second worker hands its frames for the port to the first (the one
/// explicit hand-off); a chain swap under that load reaches every worker between two of its batches.</summary>
[Collection(KernelCollection.Name)]
public sealed class MultiWorkerRuntimeTests(ITestOutputHelper output)
{
    private const int Workers = 2, Flows = 64, PerFlow = 150;

    private static ProgramConfig Program(string name) => new() { Name = name, Object = "workers.bpf.o", Section = $"tc/{name}" };

    [PrivilegedTheory]
    [InlineData(2)] // the port has a queue per worker: no frame crosses workers
    [InlineData(1)] // one queue: worker 1 hands the tenant's frames for the port to worker 0
    [InlineData(4)] // four queues: each worker serves two of them (queue q: worker q mod 2)
    public void FlowsSpreadOverTheWorkersAndEveryFrameArrivesOnceAndInOrder(int portQueues)
    {
        using var board = new MetaBoard(ports: 1, tenants: 1, queues: portQueues);
        var rt = board.Start([board.Port(0)], [board.Pair(0, primary: MetaBoard.Side(chain: "count"), peer: MetaBoard.Side(chain: "count"))],
            [Program("count")], workers: Workers);
        Assert.Equal(Workers, rt.Engine.WorkerCount);
        var pair = rt.FindPair(board.PairNames[0]);
        Assert.True(Eventually.True(() => pair.CarrierUp), "pair carrier up");
        for (int w = 0; w < Workers; w++)
        {
            Assert.Equal(w, rt.Engine.CpuOf(w)); // worker w pinned to CPU w, its programs run as CPU w
            Assert.Contains(rt.Engine.PortsOf(w), p => p.Index == pair.PrimaryPort && p.Queue == (uint)w);
            Assert.Equal(Enumerable.Range(0, portQueues).Where(q => q % Workers == w).Select(q => (uint)q),
                rt.Engine.PortsOf(w).Where(p => p.Index == 0).Select(p => p.Queue).Order());
        }

        int inbound = Send(board, rt, toTenant: true);   // outside → port → pair's primary side → tenant
        int outbound = Send(board, rt, toTenant: false); // tenant → pair's peer side → port → outside

        var port = rt.Engine.CountersOf(0);
        var primaryEnd = rt.Engine.CountersOf(pair.PrimaryPort);
        Assert.Equal(inbound, port.RxPackets);
        Assert.Equal(port.RxPackets, port.Forwarded + port.TotalDrops);
        Assert.Equal(outbound, primaryEnd.RxPackets);
        Assert.Equal(primaryEnd.RxPackets, primaryEnd.Forwarded + primaryEnd.TotalDrops);
        Assert.Equal(0, port.TotalDrops + primaryEnd.TotalDrops);
        // Spread: the tenant's flows reached both workers (the pair's veth has a queue per worker); the port's did
        // when it has a queue per worker.
        for (int w = 0; w < Workers; w++)
        {
            Assert.True(rt.Engine.PortAt(pair.PrimaryPort, w).Counters.RxPackets > 0, $"worker {w} received nothing from the tenant");
            if (w < portQueues)
                Assert.True(rt.Engine.PortsOf(w).Where(p => p.Index == 0).Sum(p => p.Counters.RxPackets) > 0, $"worker {w} received nothing from the port");
        }
        long handedOff = rt.Engine.HandedOffBy(1), takenOver = rt.Engine.HandOffCountersOf(0).Forwarded;
        if (portQueues == 4)
            Assert.All(rt.Engine.AllPorts.Where(p => p.Index == 0), p => Assert.True(p.Counters.RxPackets > 0, $"port queue {p.Queue} received nothing"));
        output.WriteLine($"port queues {portQueues}: tenant frames per worker " +
                         string.Join(", ", Enumerable.Range(0, Workers).Select(w => rt.Engine.PortAt(pair.PrimaryPort, w).Counters.RxPackets)) +
                         $"; handed off by worker 1: {handedOff}, sent by worker 0 for it: {takenOver}");
        if (portQueues == 1)
        {
            // Worker 1 has no socket on the port: each of its tenant frames went through the hand-off ring to worker 0.
            Assert.Equal(rt.Engine.PortAt(pair.PrimaryPort, 1).Counters.Forwarded, handedOff);
            Assert.Equal(handedOff, takenOver);
            Assert.True(handedOff > 0);
        }
        else Assert.Equal(0, handedOff);

        // Per-CPU maps: each worker's slot is its own; the slots sum to the runs (each frame ran `count` once).
        var runs = PerCpu(rt, "count", "runs", 0, 8);
        var cpuSeen = PerCpu(rt, "count", "cpu_seen", 0, 4);
        output.WriteLine("runs per CPU: " + string.Join(", ", runs));
        Assert.Equal(inbound + outbound, runs.Sum());
        Assert.Equal(rt.Programs["count"].Counters.Runs, runs.Sum());
        for (int w = 0; w < Workers; w++)
        {
            Assert.True(runs[w] > 0, $"no run on worker {w}'s CPU slot");
            Assert.Equal(w + 1, cpuSeen[w]); // bpf_get_smp_processor_id() was the worker's CPU
        }
        var account = rt.Engine.AccountFrames();
        Assert.True(account.IsClean, account.ToString());
    }

    [PrivilegedFact]
    public void AChainSwapUnderTwoWorkerLoadNeverRunsHalfOfEachChain()
    {
        using var board = new MetaBoard(ports: 1, tenants: 1, queues: 2);
        PairConfig PairWith(params string[] chain) => board.Pair(0, peer: MetaBoard.Side(chain: chain));
        string[] oldChain = ["old_first", "old_second"], newChain = ["new_first", "new_second"];
        ProgramConfig[] programs = [.. oldChain.Concat(newChain).Select(Program)];
        var rt = board.Start([board.Port(0)], [PairWith(oldChain)], programs, workers: Workers);
        var pair = rt.FindPair(board.PairNames[0]);
        Assert.True(Eventually.True(() => pair.CarrierUp), "pair carrier up");

        int swaps = 0;
        var swapper = new Thread(() =>
        {
            var sw = Stopwatch.StartNew();
            while (pair.Peer.Counters.RxPackets < 500 && sw.Elapsed < TimeSpan.FromSeconds(20)) Thread.Sleep(1);
            // Swap the whole chain back and forth (one reload step each) while the frames flow through both workers.
            for (int i = 0; i < 12; i++)
            {
                var next = rt.Config with { Pairs = [PairWith(i % 2 == 0 ? newChain : oldChain)] };
                rt.Apply(rt.Plan(next));
                swaps++;
                Thread.Sleep(20);
            }
        }) { IsBackground = true };
        swapper.Start();
        int sent = Send(board, rt, toTenant: false, perFlow: 400);
        Assert.True(swapper.Join(TimeSpan.FromSeconds(60)), "the swaps did not finish");
        Assert.Equal(12, swaps);

        var counts = PerCpu(rt, "old_first", "chain", 0, 8).Zip(PerCpu(rt, "old_first", "chain", 1, 8), (o, n) => (o, n)).ToArray();
        long whole = PerCpu(rt, "old_first", "chain", 0, 8).Sum() + PerCpu(rt, "old_first", "chain", 1, 8).Sum();
        long tornOld = PerCpu(rt, "old_first", "chain", 2, 8).Sum(), tornNew = PerCpu(rt, "old_first", "chain", 3, 8).Sum();
        output.WriteLine($"{sent} frames, {swaps} swaps: old/new per CPU {string.Join(", ", counts)}; torn {tornOld}/{tornNew}");
        Assert.Equal(0, tornOld);
        Assert.Equal(0, tornNew);
        Assert.Equal(sent, whole); // every frame ran one whole chain
        Assert.True(PerCpu(rt, "old_first", "chain", 0, 8).Sum() > 0 && PerCpu(rt, "old_first", "chain", 1, 8).Sum() > 0, "both chains ran");
        for (int w = 0; w < Workers; w++)
            Assert.True(rt.Engine.PortAt(pair.PrimaryPort, w).Counters.RxPackets > 0, $"worker {w} forwarded none of the tenant's frames");
    }

    /// <summary>A port with one RX queue whose driver allows two (a veth made with two, set to one with `ethtool -L`)
    /// gets a queue per worker at start: `ethtool -l` shows them, each worker has a socket on its queue, the port's flows
    /// reach both workers and no frame is handed over between them; after the appliance stops the port has its one
    /// queue again.</summary>
    [PrivilegedFact]
    public void AOneQueuePortGetsAQueuePerWorkerAndItsOneQueueBackAtStop()
    {
        using var board = new MetaBoard(ports: 1, tenants: 1, queues: Workers);
        string port = board.Ports[0];
        Shell.Check("ethtool", "-L", port, "rx", "1", "tx", "1");
        Assert.Equal((1, 1), CurrentChannels(port));

        var rt = board.Start([board.Port(0)], [board.Pair(0)], workers: Workers);
        Assert.Equal((Workers, Workers), CurrentChannels(port));
        for (int w = 0; w < Workers; w++) // what `status` lists in QUEUES
            Assert.Equal([(uint)w], rt.Engine.PortsOf(w).Where(p => p.Index == 0).Select(p => p.Queue));
        var pair = rt.FindPair(board.PairNames[0]);
        Assert.True(Eventually.True(() => pair.CarrierUp), "pair carrier up");

        Send(board, rt, toTenant: true);
        Send(board, rt, toTenant: false);
        for (int w = 0; w < Workers; w++)
        {
            Assert.True(rt.Engine.PortAt(0, w).Counters.RxPackets > 0, $"worker {w} received nothing from the port");
            Assert.Equal(0, rt.Engine.HandedOffBy(w));
        }
        var account = rt.Engine.AccountFrames();
        Assert.True(account.IsClean, account.ToString());

        board.Stop();
        Assert.Equal((1, 1), CurrentChannels(port));
    }

    /// <summary>A port released by a reload gets its one queue back (after its sockets are closed); claimed again by
    /// the next reload it has a queue per worker again.</summary>
    [PrivilegedFact]
    public void AReleasedPortGetsItsQueueBackAndAClaimedOneAQueuePerWorker()
    {
        using var board = new MetaBoard(ports: 1, tenants: 0, queues: Workers);
        string port = board.Ports[0];
        Shell.Check("ethtool", "-L", port, "rx", "1", "tx", "1");
        var rt = board.Start([board.Port(0)], [], workers: Workers);
        Assert.Equal((Workers, Workers), CurrentChannels(port));
        var claimed = rt.Config;

        rt.Apply(rt.Plan(claimed with { Ports = [] }));
        Assert.Equal((1, 1), CurrentChannels(port));

        rt.Apply(rt.Plan(claimed));
        Assert.Equal((Workers, Workers), CurrentChannels(port));
        var index = rt.Topology.Ports.Single().Index;
        for (int w = 0; w < Workers; w++)
            Assert.Equal([(uint)w], rt.Engine.PortsOf(w).Where(p => p.Index == index).Select(p => p.Queue));

        board.Stop();
        Assert.Equal((1, 1), CurrentChannels(port));
    }

    /// <summary>`queues: 2` (1) on a 4-queue veth port: `ethtool -l` shows 2 (1) channels, the port has sockets on queues 0
    /// and 1 (0), worker w on queue w; 64 flows each way through it arrive exactly once and in order and every queue
    /// carries some. With one queue, worker 1 owns none of the port: the tenant's frames it receives for the port go
    /// through the hand-off ring to worker 0, each counted once. After the appliance stops the port has its 4 channels
    /// again. (A veth takes native XDP only with at least as many RX queues as its peer has TX queues, so the outside
    /// end sends on as many as the port is given.)</summary>
    [PrivilegedTheory]
    [InlineData(2)]
    [InlineData(1)]
    public void AConfiguredQueueCountIsSetOnThePortAndItsCountBackAtStop(int queues)
    {
        using var board = new MetaBoard(ports: 1, tenants: 1, queues: 4);
        string port = board.Ports[0];
        board.Outside.Exec("ethtool", "-L", MetaBoard.OutsideInterface(0), "tx", $"{queues}");
        Assert.Equal((4, 4), CurrentChannels(port));

        var rt = board.Start([board.Port(0) with { Queues = queues }], [board.Pair(0)], workers: Workers);
        Assert.Equal((queues, queues), CurrentChannels(port));
        Assert.Equal(Enumerable.Range(0, queues).Select(q => (uint)q), rt.Engine.AllPorts.Where(p => p.Index == 0).Select(p => p.Queue).Order());
        for (int w = 0; w < Workers; w++)
            Assert.Equal(w < queues ? [(uint)w] : [], rt.Engine.PortsOf(w).Where(p => p.Index == 0).Select(p => p.Queue));
        var pair = rt.FindPair(board.PairNames[0]);
        Assert.True(Eventually.True(() => pair.CarrierUp), "pair carrier up");

        int inbound = Send(board, rt, toTenant: true);
        int outbound = Send(board, rt, toTenant: false);
        var counters = rt.Engine.CountersOf(0);
        Assert.Equal(inbound, counters.RxPackets);
        Assert.Equal(outbound, counters.TxPackets);
        Assert.Equal(0, counters.TotalDrops);
        Assert.All(rt.Engine.AllPorts.Where(p => p.Index == 0), p => Assert.True(p.Counters.RxPackets > 0, $"port queue {p.Queue} received nothing"));
        long handedOff = rt.Engine.HandedOffBy(1);
        if (queues < Workers)
        {
            Assert.True(handedOff > 0, "worker 1 handed nothing over");
            Assert.Equal(rt.Engine.PortAt(pair.PrimaryPort, 1).Counters.Forwarded, handedOff);
            Assert.Equal(handedOff, rt.Engine.HandOffCountersOf(0).Forwarded);
        }
        else Assert.Equal(0, handedOff);
        var account = rt.Engine.AccountFrames();
        Assert.True(account.IsClean, account.ToString());

        board.Stop();
        Assert.Equal((4, 4), CurrentChannels(port));
    }

    /// <summary>A reload that changes only one port's `queues` (2 → 3) is one step on that port: its channels become 3,
    /// it has sockets on queues 0..2 (worker 0 on 0 and 2, worker 1 on 1) and traffic through it arrives exactly once on
    /// all three; the other port and the pair keep the very sockets they had, with their counters and channels as they
    /// were. After stop the changed port has its original 4 channels.</summary>
    [PrivilegedFact]
    public void AReloadChangingOnePortsQueuesReopensOnlyThatPort()
    {
        using var board = new MetaBoard(ports: 2, tenants: 2, queues: 4);
        string changed = board.Ports[0], other = board.Ports[1];
        board.Outside.Exec("ethtool", "-L", MetaBoard.OutsideInterface(0), "tx", "2");
        var rt = board.Start([board.Port(0) with { Queues = 2 }, board.Port(1)], [board.Pair(0, uplink: 0), board.Pair(1, uplink: 1)], workers: Workers);
        Assert.Equal((2, 2), CurrentChannels(changed));
        Assert.Equal((4, 4), CurrentChannels(other));
        foreach (int t in new[] { 0, 1 })
            Assert.True(Eventually.True(() => rt.FindPair(board.PairNames[t]).CarrierUp), "pair carrier up");
        Send(board, rt, toTenant: true, tenant: 1, port: 1);
        Send(board, rt, toTenant: false, tenant: 1, port: 1);

        int otherIndex = rt.Topology.Ports.Single(p => p.Name == other).Index;
        var untouched = rt.Engine.AllPorts.Where(p => p.Index != 0).ToList();
        var before = untouched.Select(p => (p.Counters.RxPackets, p.Counters.TxPackets)).ToList();
        Assert.Contains(untouched, p => p.Index == otherIndex && p.Counters.RxPackets > 0);

        var plan = rt.Plan(rt.Config with { Ports = [board.Port(0) with { Queues = 3 }, board.Port(1)] });
        var step = Assert.Single(plan.Steps);
        Assert.Equal($"port {changed}", step.Target);
        Assert.Contains("queues 2 → 3", step.Detail);
        rt.Apply(plan);

        Assert.Equal((3, 3), CurrentChannels(changed));
        Assert.Equal((4, 4), CurrentChannels(other));
        Assert.Equal([0u, 2u], rt.Engine.PortsOf(0).Where(p => p.Index == 0).Select(p => p.Queue).Order());
        Assert.Equal([1u], rt.Engine.PortsOf(1).Where(p => p.Index == 0).Select(p => p.Queue));
        var after = rt.Engine.AllPorts.Where(p => p.Index != 0).ToList();
        Assert.Equal(untouched.Count, after.Count);
        Assert.All(untouched, p => Assert.Contains(after, a => ReferenceEquals(a, p))); // the same sockets, not re-opened
        Assert.Equal(before, untouched.Select(p => (p.Counters.RxPackets, p.Counters.TxPackets)).ToList());

        board.Outside.Exec("ethtool", "-L", MetaBoard.OutsideInterface(0), "tx", "3"); // the outside end sends on all three
        int inbound = Send(board, rt, toTenant: true);
        Send(board, rt, toTenant: false);
        Assert.Equal(inbound, rt.Engine.CountersOf(0).RxPackets);
        Assert.All(rt.Engine.AllPorts.Where(p => p.Index == 0), p => Assert.True(p.Counters.RxPackets > 0, $"port queue {p.Queue} received nothing"));
        var account = rt.Engine.AccountFrames();
        Assert.True(account.IsClean, account.ToString());

        board.Stop();
        Assert.Equal((4, 4), CurrentChannels(changed));
    }

    /// <summary>A veth port's `queues` below its peer's TX queues (1, the outside end sends on 2): XDP refuses it (a veth
    /// takes an XDP program only with as many RX queues as its peer has TX queues), so the port keeps its 2 queues at
    /// start as a reload to that count keeps them (the driver refuses it there) — before, the reload kept them and the
    /// next start failed with ENOSPC (found by LiveEditWalkTests: each step's config must also start).</summary>
    [PrivilegedFact]
    public void AVethPortsQueuesItsXdpCannotTakeAreKeptAtStartAsOnReload()
    {
        using var board = new MetaBoard(ports: 1, tenants: 1, queues: 2);
        string port = board.Ports[0];
        var rt = board.Start([board.Port(0) with { Queues = 1 }], [board.Pair(0)], workers: Workers);
        Assert.Equal((2, 2), CurrentChannels(port));
        Assert.Equal([0u, 1u], rt.Engine.AllPorts.Where(p => p.Index == 0).Select(p => p.Queue).Order());
        Assert.True(Eventually.True(() => rt.FindPair(board.PairNames[0]).CarrierUp), "pair carrier up");
        Send(board, rt, toTenant: true);
        Send(board, rt, toTenant: false);

        rt.Apply(rt.Plan(rt.Config with { Ports = [board.Port(0) with { Queues = 2 }] }));
        rt.Apply(rt.Plan(rt.Config with { Ports = [board.Port(0) with { Queues = 1 }] }));
        Assert.Equal((2, 2), CurrentChannels(port));
        Assert.Equal([0u, 1u], rt.Engine.AllPorts.Where(p => p.Index == 0).Select(p => p.Queue).Order());
        Send(board, rt, toTenant: true);
        board.Stop();
        Assert.Equal((2, 2), CurrentChannels(port));
    }

    /// <summary>The same port and `queues`: the start never sets a count the port's XDP program refuses, so its link
    /// never goes down (a veth's channel change takes both ends' carrier down and up; a NIC's resets it). Before, the
    /// start set 1 queue, found with a trial attach that XDP refused it and set 2 again: two link resets, counted in
    /// the port's carrier_changes.</summary>
    [PrivilegedFact]
    public void AVethPortsQueuesItsXdpRefusesNeverResetTheLinkAtStart()
    {
        using var board = new MetaBoard(ports: 1, tenants: 1, queues: 2);
        string port = board.Ports[0];
        Shell.Check("ip", "link", "set", "dev", port, "up");
        Assert.True(Eventually.True(() => File.ReadAllText($"/sys/class/net/{port}/carrier").Trim() == "1"), "port carrier up");
        long before = CarrierChanges(port);
        var rt = board.Start([board.Port(0) with { Queues = 1 }], [board.Pair(0)], workers: Workers);
        Assert.Equal((2, 2), CurrentChannels(port));
        Assert.Equal(before, CarrierChanges(port));
        Send(board, rt, toTenant: true);
    }

    /// <summary>A veth port set to 1 RX queue while its peer sends on 2 takes no XDP program (ENOSPC). Without `queues`
    /// the start widens it to a queue per worker first and attaches then (and puts the 1 back at stop); with `queues: 1`
    /// the start is refused, saying why and what to do (before: the bare ENOSPC of the attach).</summary>
    [PrivilegedFact]
    public void AVethPortWithFewerRxQueuesThanItsPeerSendsOnIsWidenedBeforeItsXdpOrRefusedSayingWhy()
    {
        using var board = new MetaBoard(ports: 1, tenants: 1, queues: 2);
        string port = board.Ports[0];
        Shell.Check("ethtool", "-L", port, "rx", "1", "tx", "1");
        var e = Assert.Throws<RuntimeSetupException>(() => board.Start([board.Port(0) with { Queues = 1 }], [board.Pair(0)], workers: Workers));
        output.WriteLine(e.Message);
        Assert.Contains($"ethtool -L {port} rx N", e.Message);
        Assert.Equal((1, 1), CurrentChannels(port));
        Assert.False(new global::Appliance.Datapath.Links.LinkManager().Get(port).Xdp.IsAttached, "the refused start left no XDP program");

        var rt = board.Start([board.Port(0)], [board.Pair(0)], workers: Workers);
        Assert.Equal((2, 2), CurrentChannels(port));
        Assert.Equal([0u, 1u], rt.Engine.AllPorts.Where(p => p.Index == 0).Select(p => p.Queue).Order());
        Assert.True(Eventually.True(() => rt.FindPair(board.PairNames[0]).CarrierUp), "pair carrier up");
        Send(board, rt, toTenant: true);
        board.Stop();
        Assert.Equal((1, 1), CurrentChannels(port));
    }

    private static long CarrierChanges(string name) => long.Parse(File.ReadAllText($"/sys/class/net/{name}/carrier_changes").Trim());

    /// <summary>The current RX and TX channel counts `ethtool -l` reports.</summary>
    private static (int Rx, int Tx) CurrentChannels(string name)
    {
        var current = Shell.Check("ethtool", "-l", name).Split("Current hardware settings:")[1].Split('\n');
        int Count(string label) => int.Parse(current.Single(l => l.StartsWith(label + ":", StringComparison.Ordinal))[(label.Length + 1)..].Trim());
        return (Count("RX"), Count("TX"));
    }

    /// <summary>Sends Flows × perFlow UDP frames (flow = source port) one way through the appliance, at most 128 in
    /// flight, and checks at the far end that each arrives exactly once and in order within its flow. Returns the count.</summary>
    private static int Send(MetaBoard board, ApplianceRuntime rt, bool toTenant, int perFlow = PerFlow, int tenant = 0, int port = 0)
    {
        var pair = rt.FindPair(board.PairNames[tenant]);
        byte[] tenantMac = MetaBoard.TenantMac(tenant).GetBytes(), outsideMac = board.OutsideMac(port);
        string? fromNs = toTenant ? board.Outside.Name : board.Tenants[tenant].Name, toNs = toTenant ? board.Tenants[tenant].Name : board.Outside.Name;
        string fromIf = toTenant ? MetaBoard.OutsideInterface(port) : MetaBoard.TenantInterface, toIf = toTenant ? MetaBoard.TenantInterface : MetaBoard.OutsideInterface(port);
        using var tx = PacketSocket.Open(fromNs, fromIf, 0x0800);
        using var rx = PacketSocket.Open(toNs, toIf, 0x0800);
        int total = Flows * perFlow;
        var flows = new UdpFlows(rx, Flows, total);
        flows.Send(tx, toTenant ? tenantMac : outsideMac, toTenant ? outsideMac : tenantMac);
        try { flows.AssertEveryFrameOnceInOrder(); }
        catch (Xunit.Sdk.XunitException e)
        {
            // Where a frame went missing: each socket's counts and the kernel's drops for it.
            var sockets = rt.Engine.AllPorts.Select(p => $"{p.InterfaceName} q{p.Queue} w{p.Worker}: rx {p.Counters.RxPackets} tx {p.Counters.TxPackets} " +
                $"fwd {p.Counters.Forwarded} drops {p.Counters.TotalDrops} (" +
                string.Join(' ', Enum.GetValues<DropReason>().Where(r => p.Counters.Drops(r) != 0).Select(r => $"{r} {p.Counters.Drops(r)}")) + $"); {p.Statistics()}");
            throw new Xunit.Sdk.XunitException($"{(toTenant ? "to the tenant" : "from the tenant")}: {e.Message}\n{string.Join('\n', sockets)}\n{rt.Engine.AccountFrames()}");
        }
        return total;
    }

    /// <summary>Value <paramref name="key"/> of a per-CPU array map as user space reads it: one value per CPU.</summary>
    private static long[] PerCpu(ApplianceRuntime rt, string program, string map, int key, int valueSize)
    {
        var m = rt.Programs[program].Object.FindMap(map)!;
        var k = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(k, key);
        var v = new byte[m.UserValueSize];
        Assert.True(m.TryLookupFromUser(k, v));
        int stride = (valueSize + 7) & ~7;
        return [.. Enumerable.Range(0, v.Length / stride).Select(c => valueSize == 8
            ? (long)BinaryPrimitives.ReadUInt64LittleEndian(v.AsSpan(c * stride))
            : BinaryPrimitives.ReadUInt32LittleEndian(v.AsSpan(c * stride)))];
    }
}
