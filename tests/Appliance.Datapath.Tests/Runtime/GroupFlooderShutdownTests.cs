using Appliance.Datapath.Forwarding;
using Appliance.Datapath.Tests.Engine;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Datapath.Tests.Runtime;

/// <summary>The group-frame flooder facing a tenant whose queue stalls (a tbf qdisc at 8 bit/s on the pair's primary
/// end holds every copy sent into it; a stopped NIC queue does the same) when a reload or shutdown disposes it. How the
/// other tenants fare meanwhile: Appliance.Host.Tests' StalledTenantFloodTests.</summary>
[Collection(KernelCollection.Name)]
public sealed class GroupFlooderShutdownTests
{
    private const int Frames = 1000;
    private static readonly byte[] Broadcast = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];

    /// <summary>A flooder whose tenant's queue stalled stops at once when disposed (no send of its waits): its thread
    /// ended within Dispose's join, so Dispose itself closed the sockets; no fault, and no frame taken from its socket
    /// after Dispose. Before, the thread sat in a send into that tenant past the join's 5 s and kept its sockets.</summary>
    [PrivilegedFact]
    public void A_flooder_facing_a_stalled_tenant_stops_at_once()
    {
        using var board = new MetaBoard(ports: 1, tenants: 1);
        int pid = Environment.ProcessId;
        var others = ThreadWakeups.ThreadsNamed(pid, "group-flooder"); // an earlier test's, should one still be there
        var rt = board.Start([board.Port(0)], [board.Pair(0)]);
        int tid = ThreadWakeups.ThreadsNamed(pid, "group-flooder").Except(others).Single();
        var pair = rt.FindPair(board.PairNames[0]);
        var flooder = rt.Flooder;
        int port = rt.Topology.Ports[0].Ifindex;
        Assert.Equal(1, PacketSocketsOn(port)); // the flooder's receiver
        Stall(pair.PrimaryName);
        try
        {
            using (var tx = PacketSocket.Open(board.Outside.Name, MetaBoard.OutsideInterface(0), TestFrames.EtherType))
                for (int i = 1; i <= Frames; i++) tx.Send(TestFrames.Build(Broadcast, board.OutsideMac(0), 100, i));
            Eventually.Equal(1, () => Math.Min(1, pair.Primary.Counters.Drops(PairDropReason.QueueFull)), "the stalled queue filled", 30_000);
            flooder.Dispose();
            long received = flooder.Received;

            Assert.Equal(0, PacketSocketsOn(port)); // closed by Dispose: the thread had let go
            Assert.True(Eventually.True(() => !ThreadLives(pid, tid)), "the flooder's thread ended");
            Assert.Null(flooder.Failure);
            Assert.Equal(received, flooder.Received);
        }
        finally
        {
            Shell.Run("tc", "qdisc", "del", "dev", pair.PrimaryName, "root");
        }
    }

    /// <summary>The interface's queue holds what is sent into it and lets out 8 bits a second (deleted by the caller).</summary>
    private static void Stall(string device) =>
        Shell.Check("tc", "qdisc", "add", "dev", device, "root", "tbf", "rate", "8bit", "burst", "2000", "limit", "100000000");

    private static bool ThreadLives(int pid, int tid) => Directory.Exists($"/proc/{pid}/task/{tid}");

    /// <summary>AF_PACKET sockets bound to <paramref name="ifindex"/> in this namespace (/proc/net/packet's Iface column).</summary>
    private static int PacketSocketsOn(int ifindex) =>
        File.ReadLines("/proc/net/packet").Skip(1).Count(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is { Length: > 4 } f && f[4] == ifindex.ToString());
}
