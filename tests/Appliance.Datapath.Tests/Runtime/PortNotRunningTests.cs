using Appliance.Datapath.Links;
using Appliance.Datapath.Runtime;
using Appliance.Datapath.Runtime.Reconcile;
using Appliance.Datapath.Xsk;
using Appliance.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Appliance.Datapath.Tests.Runtime;

/// <summary>A port a reload leaves running as neither config says — its sockets opened neither on its new `queues` nor
/// on its old ones again, or its `queues` change not undone — is taken out with its pairs: not running (the reply and
/// <see cref="ApplianceRuntime.NotRunning"/> say so), its XDP program off so its frames are the kernel's, and the next
/// reload claims it again from its config. The failure is real: another AF_XDP socket holds one of the port's queues
/// (its queue 3, which someone gave the port with `ethtool -L` while its sockets were on 2).</summary>
[Collection(KernelCollection.Name)]
public sealed class PortNotRunningTests(ITestOutputHelper output)
{
    private const int Workers = 2;

    [PrivilegedFact]
    public void APortWhoseSocketsCannotBeReopenedOnNewQueuesNorOnItsOldOnesIsTakenOutAndTheNextReloadClaimsItAgain()
    {
        using var board = new MetaBoard(ports: 1, tenants: 1, queues: 4);
        string port = board.Ports[0], pair = board.PairNames[0];
        board.Outside.Exec("ethtool", "-L", MetaBoard.OutsideInterface(0), "tx", "2");
        var rt = board.Start([board.Port(0) with { Queues = 2 }], [board.Pair(0)], workers: Workers);
        Assert.Equal(5, Reach(board, rt));

        var next = rt.Config with { Ports = [board.Port(0) with { Queues = 4 }] };
        Shell.Check("ethtool", "-L", port, "rx", "4", "tx", "4"); // meanwhile the port got 4 queues, and queue 3 went to another user
        ReconcileException e;
        using (HoldQueue(port, 3))
            e = Assert.Throws<ReconcileException>(() => rt.Apply(rt.Plan(next)));
        output.WriteLine(e.Message);
        Assert.Contains($"taken out: port {port}", e.Message);
        Assert.Contains($"taken out: pair {pair}", e.Message);
        Assert.Equal([$"pair {pair}", $"port {port}"], e.NotRunning.Select(p => p.Target).Order());
        Assert.Equal([$"pair {pair}", $"port {port}"], rt.NotRunning.Select(p => p.Target).Order());
        Assert.Contains("nor on its 2 again", rt.NotRunning.Single(p => p.Target == $"port {port}").Why);
        Assert.Empty(rt.Topology.Ports);
        Assert.Empty(rt.Topology.Pairs);
        Assert.Empty(rt.Engine.AllPorts);
        Assert.False(new LinkManager().Get(port).Xdp.IsAttached, "a port taken out leaves its frames to the kernel");

        // The queue is free again: the same config claims the port (on 4 queues) and makes its pair again.
        output.WriteLine(Describe(rt, next));
        Assert.Empty(rt.NotRunning);
        Assert.Equal([0u, 1u, 2u, 3u], rt.Engine.AllPorts.Where(p => p.InterfaceName == port).Select(p => p.Queue).Order());
        Assert.Equal(5, Reach(board, rt));
    }

    /// <summary>The `queues` change (4 → 2) is done, a later step (the port's `unclaimed`) fails, and undoing the
    /// queues fails: the port's sockets cannot be opened on 4 queues again.</summary>
    [PrivilegedFact]
    public void APortWhoseQueuesChangeCannotBeUndoneIsTakenOutAndTheNextReloadClaimsItAgain()
    {
        using var board = new MetaBoard(ports: 1, tenants: 1, queues: 4);
        string port = board.Ports[0], pair = board.PairNames[0];
        IDisposable? holder = null;
        board.Outside.Exec("ethtool", "-L", MetaBoard.OutsideInterface(0), "tx", "2");
        var rt = board.Start([board.Port(0) with { Queues = 4 }], [board.Pair(0)], workers: Workers, beforeStep: s =>
        {
            if (s.Action != PlanAction.Change || !s.Detail.StartsWith("unclaimed", StringComparison.Ordinal)) return;
            Shell.Check("ethtool", "-L", port, "rx", "4", "tx", "4"); // meanwhile the port got 4 queues back, and queue 3 went to another user
            holder = HoldQueue(port, 3);
            throw new InvalidOperationException("injected: the unclaimed step fails");
        });
        try
        {
            Assert.Equal(5, Reach(board, rt));
            var next = rt.Config with { Ports = [board.Port(0, Config.UnclaimedPolicy.Drop) with { Queues = 2 }] };
            var e = Assert.Throws<ReconcileException>(() => rt.Apply(rt.Plan(next)));
            output.WriteLine(e.Message);
            Assert.Contains($"undo failed: change  port {port}: queues 4 → 2", e.Message);
            Assert.Contains($"taken out: port {port}", e.Message);
            Assert.Equal([$"pair {pair}", $"port {port}"], rt.NotRunning.Select(p => p.Target).Order());
            Assert.Contains($"its uplink, port {port}, was taken out", rt.NotRunning.Single(p => p.Target == $"pair {pair}").Why);
            Assert.Empty(rt.Topology.Ports);
            Assert.Empty(rt.Engine.AllPorts);
            Assert.False(new LinkManager().Get(port).Xdp.IsAttached, "a port taken out leaves its frames to the kernel");

            holder!.Dispose();
            holder = null;
            var still = rt.Config with { Ports = [board.Port(0) with { Queues = 4 }] }; // the running config: only what is not running changes
            output.WriteLine(Describe(rt, still));
            Assert.Empty(rt.NotRunning);
            Assert.Equal(5, Reach(board, rt));
        }
        finally
        {
            holder?.Dispose();
        }
    }

    /// <summary>Another AF_XDP user's socket on <paramref name="port"/>'s queue <paramref name="queue"/> (copy mode, no XDP
    /// program of its own).</summary>
    private static XskPortSet HoldQueue(string port, uint queue) =>
        XskPortSet.Open([new XskPortSpec(port, queue, ZeroCopyMode.Off, AttachSteering: false) { Queues = 1 }]);

    private static string Describe(ApplianceRuntime rt, Config.ApplianceConfig next)
    {
        var plan = rt.Plan(next);
        rt.Apply(plan);
        return plan.Describe();
    }

    private static int Reach(MetaBoard board, ApplianceRuntime rt)
    {
        Assert.True(Eventually.True(() => rt.FindPair(board.PairNames[0]).CarrierUp), "pair carrier up");
        return FrameProbe.Exchange(board.Outside.Name, MetaBoard.OutsideInterface(0), board.Tenants[0].Name, MetaBoard.TenantInterface,
            MetaBoard.TenantMac(0).GetBytes(), board.OutsideMac(0), 5, out _).Count;
    }
}
