using Appliance.Config;
using Appliance.Datapath.Runtime;
using Appliance.TestSupport;
using Xunit;
using Appliance.Datapath.Forwarding;

namespace Appliance.Datapath.Tests.Runtime;

/// <summary>Real clients through the appliance: ping both ways with ARP resolving through it, a TCP transfer,
/// management traffic to the board's own address on the port, and the allow_port example program.</summary>
[Collection(KernelCollection.Name)]
public sealed class RealClientTests
{
    [PrivilegedFact]
    public void PingBothWaysTcpAndManagementTrafficWork()
    {
        using var board = new MetaBoard(ports: 1, tenants: 1);
        board.AddAddresses(0);
        var rt = board.Start([board.Port(0)], [board.Pair(0, withAddress: true)]);
        var pair = rt.FindPair(board.PairNames[0]);
        string tenant = MetaBoard.TenantAddress(0, 0), outside = MetaBoard.OutsideAddress(0);

        // The outside starts: its ARP request is a broadcast that only the flooder can bring to the tenant.
        board.Outside.Exec("ping", "-c", "3", "-i", "0.2", "-W", "2", tenant);
        Assert.True(rt.Topology.Ports[0].Flooded >= 1, "the outside's ARP request must have been flooded to the tenant");
        board.Tenants[0].Exec("ip", "neigh", "flush", "all");
        board.Tenants[0].Exec("ping", "-c", "3", "-i", "0.2", "-W", "2", outside);
        // ARP resolved through the appliance, both ways.
        Assert.Contains(Convert.ToHexString(board.OutsideMac(0)).ToLowerInvariant(),
            board.Tenants[0].Exec("ip", "neigh", "show", outside).Replace(":", ""));
        Assert.Contains(MetaBoard.TenantMac(0).ToString(), board.Outside.Exec("ip", "neigh", "show", tenant));

        Assert.True(TcpTransfer.Send(board.Tenants[0], board.Outside, outside, 5001, 2 << 20), "TCP tenant → outside");
        Assert.True(TcpTransfer.Send(board.Outside, board.Tenants[0], tenant, 5002, 1 << 20), "TCP outside → tenant");
        Assert.True(pair.Peer.Counters.TxPackets > 100);
        Assert.True(pair.Primary.Counters.TxPackets > 100);

        // Management: the board's own address on the port answers while the appliance runs.
        board.Outside.Exec("ping", "-c", "2", "-i", "0.2", "-W", "2", MetaBoard.PortAddress(0));
    }

    [PrivilegedFact]
    public void TheAllowPortExampleLetsOnlyItsPortThrough()
    {
        using var board = new MetaBoard(ports: 1, tenants: 1);
        board.AddAddresses(0);
        var allow = new ProgramConfig
        {
            Name = "allow-5001",
            Object = "allow_port.bpf.o",
            Section = "netkit/peer",
            Maps = new Dictionary<string, IReadOnlyList<MapEntryConfig>>
            {
                ["allowed_ports"] = [new MapEntryConfig { Key = Integer("5001"), Value = Integer("0") }],
            },
        };
        var rt = board.Start([board.Port(0)], [board.Pair(0, withAddress: true, peer: MetaBoard.Side(SidePolicy.Drop, ScrubMode.Default, "allow-5001"))],
            [allow]);
        string outside = MetaBoard.OutsideAddress(0);

        board.Tenants[0].Exec("ping", "-c", "1", "-W", "2", outside); // not L4: passes (pass_non_l4)
        Assert.True(TcpTransfer.Send(board.Tenants[0], board.Outside, outside, 5001, 64 << 10), "port 5001 is allowed");
        long droppedBefore = rt.FindPair(board.PairNames[0]).Peer.Counters.Drops(PairDropReason.Verdict);
        Assert.False(TcpTransfer.Send(board.Tenants[0], board.Outside, outside, 5002, 1024, connectTimeoutSeconds: 2), "port 5002 is not allowed");
        Assert.True(rt.FindPair(board.PairNames[0]).Peer.Counters.Drops(PairDropReason.Verdict) > droppedBefore);

        var hits = new byte[8];
        var key = new byte[] { 0x89, 0x13 }; // 5001, little-endian u16
        Assert.True(rt.Programs["allow-5001"].Object.FindMap("allowed_ports")!.TryLookupFromUser(key, hits));
        Assert.True(BitConverter.ToUInt64(hits) > 0, "the program counts the frames it let through to 5001");
    }

    /// <summary>A map key or value as the config's JSON number <paramref name="text"/> gives it.</summary>
    private static MapDatum Integer(string text)
    {
        Assert.True(MapDatum.TryParseInteger(text, out var datum), text);
        return datum;
    }
}
