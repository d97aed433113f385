using System.Buffers.Binary;
using Appliance.Config;
using Appliance.Datapath.Forwarding;
using Appliance.Datapath.Runtime;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Datapath.Tests.Runtime;

/// <summary>The routing helpers with the real kernel and real clients: programs/fib_forward.bpf.c (bpf_fib_lookup +
/// bpf_redirect_neigh on a tenant's peer side) routes the tenant's pings to an outside host through the board's own
/// routing and neighbour tables; programs/peer_deliver.bpf.c (bpf_redirect_peer on a pair's primary side) hands the
/// outside's pings for tenant B, sent to tenant A's MAC, straight into tenant B; and bpf_redirect_peer from a
/// tenant's own frames is dropped, as netkit does.</summary>
[Collection(KernelCollection.Name)]
public sealed class RoutingHelperScenarioTests
{
    private const string FakeGatewayMac = "02:00:00:00:00:ee";

    /// <summary>One port and one pair whose peer side runs programs/fib_forward.bpf.o, the board's address on the port,
    /// the pair's carrier up and IPv4 forwarding on its primary end (the lookup's input interface, ctx->ifindex on the
    /// peer side: it must forward).</summary>
    private static ApplianceRuntime StartFibForward(MetaBoard board, out PairRuntime pair)
    {
        board.AddAddresses(0);
        var rt = board.Start([board.Port(0)],
            [board.Pair(0, peer: MetaBoard.Side(chain: "fwd"))],
            [new ProgramConfig { Name = "fwd", Object = "fib_forward.bpf.o", Section = "tc" }]);
        var started = rt.FindPair(board.PairNames[0]);
        Assert.True(Eventually.True(() => started.CarrierUp), "pair carrier up");
        Shell.Check("sysctl", "-qw", $"net.ipv4.conf.{board.PairNames[0]}.forwarding=1");
        pair = started;
        return rt;
    }

    [PrivilegedFact]
    public void FibLookupAndRedirectNeighRouteATenantOutOfAPort()
    {
        using var board = new MetaBoard(ports: 1, tenants: 1);
        var rt = StartFibForward(board, out var pair);

        // The tenant lives in its own subnet behind a gateway MAC nobody has: only a rewritten frame reaches the outside.
        var tenant = board.Tenants[0];
        tenant.Exec("ip", "addr", "add", "10.99.0.10/24", "dev", MetaBoard.TenantInterface);
        tenant.Exec("ip", "link", "set", MetaBoard.TenantInterface, "up");
        tenant.Exec("ip", "route", "add", "default", "via", "10.99.0.1");
        tenant.Exec("ip", "neigh", "replace", "10.99.0.1", "lladdr", FakeGatewayMac, "dev", MetaBoard.TenantInterface, "nud", "permanent");
        board.Outside.Exec("ip", "route", "add", "10.99.0.0/24", "dev", MetaBoard.OutsideInterface(0));
        board.Outside.Exec("ip", "neigh", "replace", "10.99.0.10", "lladdr", MetaBoard.TenantMac(0).ToString(), "dev",
            MetaBoard.OutsideInterface(0), "nud", "permanent");
        Shell.Run("ip", "neigh", "del", MetaBoard.OutsideAddress(0), "dev", board.Ports[0]); // the board must resolve it

        // The first echo finds the board's neighbour unknown: the appliance asks the kernel to resolve it and drops it.
        var ping = tenant.TryExec("ping", "-c", "6", "-i", "0.3", "-W", "2", MetaBoard.OutsideAddress(0));
        var c = rt.Programs["fwd"].Counters;
        Assert.True(ping.ExitCode == 0, $"the tenant's pings got no reply: {ping.StdOut}; fib_forward pass {c.Pass} drop {c.Drop} " +
            $"redirect {c.Redirect}; peer side drops: " + string.Join(", ", Enum.GetValues<PairDropReason>()
                .Where(r => pair.Peer.Counters.Drops(r) != 0).Select(r => $"{r} {pair.Peer.Counters.Drops(r)}")));
        Assert.True(rt.Programs["fwd"].Counters.Redirect >= 6, "fib_forward redirected every echo");
        // The board resolved the outside host because the appliance asked (nothing else on the board talks to it).
        Assert.True(pair.Peer.Counters.Drops(PairDropReason.NoNeighbour) >= 1, "the first echo met an unknown neighbour");
        Assert.Contains("lladdr", Shell.Check("ip", "neigh", "show", MetaBoard.OutsideAddress(0), "dev", board.Ports[0]));
    }

    /// <summary>bpf_redirect_neigh to ever new on-link next hops (a tenant behind fib_forward sending to 200 unresolved
    /// addresses of the port's subnet) asks the kernel for at most <see cref="PairRuntime.NeighbourRequestsPerSecond"/>
    /// of them a second, as the L3 path does: one pair cannot fill the host's neighbour table for the others. The
    /// bound is checked as the frames go (8 at a time).</summary>
    [PrivilegedFact]
    public void RedirectNeighToUnresolvedNextHopsAsksWithinThePairsShare()
    {
        using var board = new MetaBoard(ports: 1, tenants: 1);
        var rt = StartFibForward(board, out var pair);
        var mac = MetaBoard.TenantMac(0).GetBytes();
        using var tx = Engine.PacketSocket.Open(board.Tenants[0].Name, MetaBoard.TenantInterface, 0x0800);
        long asked = rt.RoutingTables.ResolveRequestsSent, drops = pair.Peer.Counters.Drops(PairDropReason.NoNeighbour);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long Bound() => Appliance.Datapath.Runtime.PairRuntime.NeighbourRequestsPerSecond * (2 + (long)clock.Elapsed.TotalSeconds);
        for (int sent = 0; sent < 200;)
        {
            for (int i = 0; i < 8; i++, sent++)
            {
                var f = new byte[14 + 20 + 8];
                mac.CopyTo(f, 0);
                mac.CopyTo(f, 6);
                f[12] = 0x08;
                f[14] = 0x45;
                BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(16), 28);
                f[22] = 64;
                f[23] = 17;
                new byte[] { 10, 99, 0, 10, 10, 50, 0, (byte)(20 + sent) }.CopyTo(f, 26);
                tx.Send(f);
            }
            Assert.True(Eventually.True(() => pair.Peer.Counters.Drops(PairDropReason.NoNeighbour) - drops >= sent, 10000),
                $"{pair.Peer.Counters.Drops(PairDropReason.NoNeighbour) - drops} of {sent} frames dropped as noNeighbour");
            long resolving = rt.RoutingTables.ResolveRequestsSent - asked;
            Assert.True(resolving <= Bound(), $"{resolving} neighbours asked for after {sent} frames in {clock.Elapsed.TotalSeconds:F1} s");
        }
        Assert.True(Eventually.True(() => rt.RoutingTables.ResolveRequestsSent > asked, 5000), "the kernel was asked (the bound can fail)");
    }

    /// <summary>bpf_fib_lookup answers alike on both paths into a pair: a program on an L2 tenant's primary side looks
    /// up the outside host for every frame; the outside's ARP request (broadcast: the flooder's AF_PACKET copy) and
    /// its echo requests (unicast: the forwarding worker) get the same answer from the board's tables.</summary>
    [PrivilegedFact]
    public void FibLookupAnswersOnTheGroupFramePathAsOnTheMainPath()
    {
        using var board = new MetaBoard(ports: 1, tenants: 1);
        board.AddAddresses(0);
        var rt = board.Start([board.Port(0)], [board.Pair(0, primary: MetaBoard.Side(chain: "fib"), withAddress: true)],
            [new ProgramConfig { Name = "fib", Object = "fib_group.bpf.o", Section = "tc" }]);
        var pair = rt.FindPair(board.PairNames[0]);
        Assert.True(Eventually.True(() => pair.CarrierUp), "pair carrier up");
        int port = rt.Topology.Ports[0].Ifindex;
        Shell.Check("sysctl", "-qw", $"net.ipv4.conf.{board.Ports[0]}.forwarding=1");
        var query = new byte[64];
        query[0] = 2; // AF_INET
        BinaryPrimitives.WriteInt32LittleEndian(query.AsSpan(8), port);
        System.Net.IPAddress.Parse(MetaBoard.OutsideAddress(0)).GetAddressBytes().CopyTo(query, 32);
        var obj = rt.Programs["fib"].Object;
        Assert.Equal(0, obj.FindMap("query")!.UpdateFromUser(new byte[4], query, 0));

        board.Outside.Exec("ip", "neigh", "flush", "dev", MetaBoard.OutsideInterface(0));
        board.Outside.Exec("ping", "-c", "2", "-i", "0.2", "-W", "2", MetaBoard.TenantAddress(0, 0));
        var answers = obj.FindMap("answers")!;
        var group = new byte[16];
        var unicast = new byte[16];
        Assert.True(answers.TryLookupFromUser(BitConverter.GetBytes(0), group));
        Assert.True(answers.TryLookupFromUser(BitConverter.GetBytes(1), unicast));
        Assert.True(BinaryPrimitives.ReadUInt32LittleEndian(group.AsSpan(12)) >= 1, "the ARP request ran the program on the group-frame path");
        Assert.True(BinaryPrimitives.ReadUInt32LittleEndian(unicast.AsSpan(12)) >= 2, "the echoes ran it on the main path");
        Assert.Equal(0, BinaryPrimitives.ReadInt64LittleEndian(unicast)); // BPF_FIB_LKUP_RET_SUCCESS
        Assert.Equal(port, BinaryPrimitives.ReadInt32LittleEndian(unicast.AsSpan(8)));
        Assert.Equal(Convert.ToHexString(unicast, 0, 12), Convert.ToHexString(group, 0, 12));
    }

    [PrivilegedFact]
    public void RedirectPeerDeliversIntoAnotherTenant()
    {
        using var board = new MetaBoard(ports: 1, tenants: 2);
        var (rt, a, addressB) = StartPeerDeliver(board, onPeerSide: false);

        // The outside sends B's packets to A's MAC: only bpf_redirect_peer on A's primary side gets them to B.
        board.Outside.Exec("ip", "neigh", "replace", addressB, "lladdr", MetaBoard.TenantMac(0).ToString(), "dev",
            MetaBoard.OutsideInterface(0), "nud", "permanent");
        var ping = board.Outside.TryExec("ping", "-c", "4", "-i", "0.3", "-W", "2", addressB);
        Assert.True(ping.ExitCode == 0, $"no reply from tenant B: {ping.StdOut}");
        Assert.True(a.Primary.Counters.TxPackets >= 4, "A's primary side sent them on");
        Assert.Equal(0, a.Primary.Counters.Drops(PairDropReason.PeerNotAtIngress));

        // nc: a TCP line through the same path.
        Assert.True(TcpTransfer.Send(board.Outside, board.Tenants[1], addressB, 5003, 64 << 10), "TCP outside → tenant B via redirect_peer");
    }

    [PrivilegedFact]
    public void RedirectPeerFromATenantsOwnFramesIsDropped()
    {
        using var board = new MetaBoard(ports: 1, tenants: 2);
        var (_, a, addressB) = StartPeerDeliver(board, onPeerSide: true);
        board.Tenants[0].Exec("ip", "neigh", "replace", addressB, "lladdr", MetaBoard.TenantMac(1).ToString(), "dev",
            MetaBoard.TenantInterface, "nud", "permanent");

        var ping = board.Tenants[0].TryExec("ping", "-c", "3", "-i", "0.2", "-W", "1", addressB);
        Assert.NotEqual(0, ping.ExitCode);
        Assert.True(a.Peer.Counters.Drops(PairDropReason.PeerNotAtIngress) >= 3, "the peer side counted the refused redirect_peer");
    }

    /// <summary>Two tenants with addresses on port 0; peer_deliver on tenant A's primary (or peer) side, its map sending
    /// tenant B's address (returned) into B: B's primary-end ifindex and B's MAC.</summary>
    private static (Appliance.Datapath.Runtime.ApplianceRuntime Runtime, Appliance.Datapath.Runtime.PairRuntime A, string AddressB)
        StartPeerDeliver(MetaBoard board, bool onPeerSide)
    {
        board.AddAddresses(0);
        var side = MetaBoard.Side(chain: "deliver");
        var rt = board.Start([board.Port(0)],
            [onPeerSide ? board.Pair(0, peer: side, withAddress: true) : board.Pair(0, primary: side, withAddress: true), board.Pair(1, withAddress: true)],
            [new ProgramConfig { Name = "deliver", Object = "peer_deliver.bpf.o", Section = "tc" }]);
        var a = rt.FindPair(board.PairNames[0]);
        var b = rt.FindPair(board.PairNames[1]);
        Assert.True(Eventually.True(() => a.CarrierUp && b.CarrierUp), "pairs carrier up");
        string addressB = MetaBoard.TenantAddress(1, 0);
        var value = new byte[12];
        BinaryPrimitives.WriteUInt32LittleEndian(value, (uint)b.PrimaryIfindex);
        MetaBoard.TenantMac(1).GetBytes().CopyTo(value, 4);
        var key = System.Net.IPAddress.Parse(addressB).GetAddressBytes();
        Assert.Equal(0, rt.Programs["deliver"].Object.FindMap("tenants")!.UpdateFromUser(key, value, 0));
        return (rt, a, addressB);
    }
}
