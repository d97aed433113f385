using System.Runtime.InteropServices;
using Appliance.Datapath.Runtime;
using Appliance.Datapath.Tests.Engine;
using Appliance.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Appliance.Datapath.Tests.Runtime;

/// <summary>A group-frame flooder whose thread does not stop within Dispose's join keeps what that thread may still
/// touch: here the thread is blocked in a send into the tenant (a tbf qdisc at 8 bit/s on the pair's primary end
/// holds its copies, so the transmit socket's send buffer fills; a NIC whose queue stopped does the same). Its
/// sockets stay open while the thread lives — closed, their fd numbers could be handed to another socket while it still
/// received or sent on them, and it met EBADF as a fault — and it closes them itself when the send returns and its loop
/// ends, without a fault. Once Dispose was called it takes no further frame from its socket (hundreds are still queued
/// there) and floods no further copy: the copy of the send it was in is the last.</summary>
[Collection(KernelCollection.Name)]
public sealed class GroupFlooderShutdownTests(ITestOutputHelper output)
{
    private static readonly byte[] Broadcast = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];

    [PrivilegedFact]
    public void AFlooderStuckInASendClosesItsSocketsWhenItsThreadEndsAndFloodsNothingMore()
    {
        using var board = new MetaBoard(ports: 1, tenants: 1);
        var (rt, tid, primary) = StuckInASend(board);
        var flooder = rt.Flooder;
        int port = rt.Topology.Ports[0].Ifindex;
        long received;
        int intoTenant = 0;
        using (var tenant = PacketSocket.Open(board.Tenants[0].Name, MetaBoard.TenantInterface, TestFrames.EtherType))
        {
            try
            {
                flooder.Dispose(); // its join gives up after 5 s
                received = flooder.Received;

                Assert.True(ThreadLives(tid), "the flooder's thread is still in its send");
                Assert.Equal(1, PacketSocketsOn(port));
            }
            finally
            {
                Shell.Run("tc", "qdisc", "del", "dev", primary, "root"); // its queued copies go: the send returns
            }
            Assert.True(Eventually.True(() => !ThreadLives(tid), 30_000), "the flooder's thread ended once its send returned");
            var frame = new byte[2048];
            while (tenant.Receive(frame, 500) > 0) intoTenant++;
        }
        Assert.Equal(0, PacketSocketsOn(port));
        output.WriteLine($"frames received by the flooder: {flooder.Received}; copies into the tenant after Dispose: {intoTenant}; its last fault: {flooder.Failure?.Message ?? "none"}");
        Assert.Null(flooder.Failure);
        Assert.Equal(received, flooder.Received); // no frame taken from its socket after Dispose
        Assert.InRange(intoTenant, 0, 1);         // at most the copy whose send it was in
    }

    /// <summary>The runtime stopped around a flooder stuck in a send (its join gave up; the runtime went on and took
    /// the pair's primary end down and disposed what the flooder's decisions read): when the thread comes out of its
    /// send it ends, taking no further frame and logging no fault.</summary>
    [PrivilegedFact]
    public void AFlooderThatOutlivedTheRuntimeEndsWithoutAFault()
    {
        using var board = new MetaBoard(ports: 1, tenants: 1);
        var (rt, tid, primary) = StuckInASend(board);
        var flooder = rt.Flooder;
        long received;
        try
        {
            flooder.Dispose(); // its join gives up after 5 s
            received = flooder.Received;
            board.Stop();      // the runtime's own Dispose: the primary end goes down, its queue with it, and the send returns
        }
        finally
        {
            Shell.Run("tc", "qdisc", "del", "dev", primary, "root");
        }
        Assert.True(Eventually.True(() => !ThreadLives(tid), 30_000), "the flooder's thread ended");
        output.WriteLine($"frames received by the flooder: {flooder.Received} ({received} at Dispose); its last fault: {flooder.Failure?.ToString() ?? "none"}");
        Assert.Null(flooder.Failure);
        Assert.Equal(received, flooder.Received);
    }

    /// <summary>A runtime with one pair whose flooder thread is blocked in a send into the tenant: 1000 broadcasts from
    /// the outside, and a tbf qdisc at 8 bit/s on the primary end (deleted by the caller).</summary>
    private (ApplianceRuntime Runtime, int Tid, string Primary) StuckInASend(MetaBoard board)
    {
        int pid = Environment.ProcessId;
        var others = ThreadWakeups.ThreadsNamed(pid, "group-flooder"); // an earlier test's, should one still be there
        var rt = board.Start([board.Port(0)], [board.Pair(0)]);
        int tid = ThreadWakeups.ThreadsNamed(pid, "group-flooder").Except(others).Single();
        string primary = rt.FindPair(board.PairNames[0]).PrimaryName;
        Assert.Equal(1, PacketSocketsOn(rt.Topology.Ports[0].Ifindex)); // the flooder's receiver
        Shell.Check("tc", "qdisc", "add", "dev", primary, "root", "tbf", "rate", "8bit", "burst", "2000", "limit", "100000000");
        try
        {
            using (var tx = PacketSocket.Open(board.Outside.Name, MetaBoard.OutsideInterface(0), TestFrames.EtherType))
                for (int i = 1; i <= 1000; i++) tx.Send(TestFrames.Build(Broadcast, board.OutsideMac(0), 100, i));
            Assert.True(Eventually.True(() => InSendTo(pid, tid), 30_000), "the flooder's send never blocked");
            return (rt, tid, primary);
        }
        catch
        {
            Shell.Run("tc", "qdisc", "del", "dev", primary, "root");
            throw;
        }
    }

    private static bool ThreadLives(int tid) => Directory.Exists($"/proc/{Environment.ProcessId}/task/{tid}");

    /// <summary>AF_PACKET sockets bound to <paramref name="ifindex"/> in this namespace (/proc/net/packet's Iface column).</summary>
    private static int PacketSocketsOn(int ifindex) =>
        File.ReadLines("/proc/net/packet").Skip(1).Count(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is { Length: > 4 } f && f[4] == ifindex.ToString());

    /// <summary>The thread is in sendto(2) (/proc/PID/task/TID/syscall's first field is the call's number).</summary>
    private static bool InSendTo(int pid, int tid)
    {
        int sendto = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 206 : 44;
        return File.ReadAllText($"/proc/{pid}/task/{tid}/syscall").Split(' ')[0] == sendto.ToString();
    }
}
