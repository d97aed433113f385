using Appliance.TestSupport;
using Xunit;

namespace Appliance.Datapath.Tests.Runtime;

/// <summary>Idle forwarding workers sleep for good: with no frame, no MAC to age and no port gone, each sleeps in
/// poll() without a timeout (the kernel counts none of its voluntary context switches over 3 s; a 1 s poll timeout
/// made 3 each), and a deleted interface still wakes them at once — AF_XDP gives poll() nothing then, so the
/// engine's link watcher does — so the socket is marked down with no frame to wake a worker.</summary>
[Collection(KernelCollection.Name)]
public sealed class IdleWorkerTests
{
    private const int Workers = 2;

    [PrivilegedFact]
    public void IdleWorkersSleepWithoutTimeoutAndADeletedPortStillWakesThem()
    {
        int pid = Environment.ProcessId;
        var earlier = ThreadWakeups.ThreadsNamed(pid, "xsk-forwarder", prefix: true); // an earlier test's, should one linger
        using var board = new MetaBoard(ports: 2, tenants: 2, queues: Workers);
        var rt = board.Start([board.Port(0), board.Port(1)], [board.Pair(0), board.Pair(1, uplink: 1)], workers: Workers);
        Assert.Equal(Workers, rt.Engine.WorkerCount);
        var workers = ThreadWakeups.ThreadsNamed(pid, "xsk-forwarder", prefix: true).Except(earlier).ToArray();
        Assert.Equal(Workers, workers.Length);
        for (int t = 0; t < 2; t++) // both pairs forward (the workers are up and have slept and woken)
            Assert.Single(FrameProbe.Exchange(board.Tenants[t].Name, MetaBoard.TenantInterface, board.Outside.Name,
                MetaBoard.OutsideInterface(t), board.OutsideMac(t), MetaBoard.TenantMac(t).GetBytes(), 1, out _));

        Assert.True(ThreadWakeups.Settle(pid, workers, out var before), "the workers never settled");
        Thread.Sleep(3000);
        for (int w = 0; w < workers.Length; w++)
        {
            long woke = ThreadWakeups.Of(pid, workers[w]) - before[w];
            Assert.True(woke == 0, $"forwarding worker thread {workers[w]} woke {woke} times in 3 s with nothing to do");
        }

        // The second port's veth goes (with its outside end): no frame comes, yet every socket on it is marked down.
        board.Outside.Exec("ip", "link", "del", MetaBoard.OutsideInterface(1));
        var gone = rt.Engine.AllPorts.Where(p => p.InterfaceName == board.Ports[1]).ToArray();
        Assert.Equal(Workers, gone.Length);
        Assert.True(Eventually.True(() => gone.All(p => p.IsDown), timeoutMs: 10_000),
            $"the deleted port's sockets were not marked down: {string.Join(", ", gone.Select(p => $"queue {p.Queue} down={p.IsDown}"))}");
        Assert.All(gone, p => Assert.Contains("ENETDOWN", p.DownReason));
        // The other port still forwards, and the frames of the one gone are back in the free stacks once reclaimed.
        Assert.Single(FrameProbe.Exchange(board.Tenants[0].Name, MetaBoard.TenantInterface, board.Outside.Name,
            MetaBoard.OutsideInterface(0), board.OutsideMac(0), MetaBoard.TenantMac(0).GetBytes(), 1, out _));
        var account = rt.Engine.AccountFrames();
        Assert.True(account.IsClean, account.ToString());
    }
}
