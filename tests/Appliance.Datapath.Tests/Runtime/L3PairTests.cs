using System.Buffers.Binary;
using Appliance.Bpf.Helpers;
using Appliance.Datapath.Tests.Engine;
using System.Net;
using Appliance.Bpf.Routing;
using Appliance.Datapath.Engine;
using Appliance.Datapath.Forwarding;
using Appliance.Datapath.Runtime;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Datapath.Tests.Runtime;

/// <summary>L3 pairs with real clients: a tenant two hops from a far host (through the board's routing table and an
/// outside router), proxy ARP/ND on the uplink, TCP with the bytes checked, L2 and L3 tenants on one uplink, L3 tenants
/// isolated from each other, a route change on the board followed while running, and no allocation per routed frame.</summary>
[Collection(KernelCollection.Name)]
public sealed class L3PairTests
{
    /// <summary>Pings until one answers (the first frames of a flow may meet a neighbour being resolved), then
    /// three in a row must all come back.</summary>
    private static void Ping(NetNamespace from, string to)
    {
        Eventually.True(() => from.TryExec("ping", "-c", "1", "-W", "1", to).ExitCode == 0, 8000);
        var output = from.Exec("ping", "-c", "3", "-i", "0.2", "-W", "2", to);
        Assert.Contains("3 received", output);
    }

    [PrivilegedFact]
    public void A_tenant_reaches_a_host_two_hops_away_over_IPv4_and_IPv6_and_back()
    {
        using var board = new L3Board(tenants: 1);
        var rt = board.Start(board.L3Pair(0));
        var pair = rt.FindPair(board.PairNames[0]);
        var tenant = board.Tenants[0];

        // The tenant's interface is set up as netkit L3 does it: NOARP, default routes through the device.
        Assert.Contains("NOARP", tenant.Exec("ip", "link", "show", L3Board.TenantInterface));
        Assert.Contains($"default dev {L3Board.TenantInterface}", tenant.Exec("ip", "route", "show"));
        Assert.Contains($"default dev {L3Board.TenantInterface}", tenant.Exec("ip", "-6", "route", "show"));

        Ping(board.Far, board.TenantAddress(0));      // the far host starts (proxy ARP on the outside router)
        Ping(tenant, board.FarAddress);
        Ping(tenant, board.FarAddress6);
        Ping(board.Far, board.TenantAddress6(0));      // proxy ND
        Assert.True(rt.Topology.Ports[0].Proxied >= 2, "ARP and ND answered by the appliance");
        // The outside router resolved the tenant's on-link addresses to the port's MAC.
        string portMac = board.PortMac();
        Assert.Contains(portMac, board.Outside.Exec("ip", "neigh", "show", board.TenantAddress(0)).Replace(":", ""));
        Assert.Contains(portMac, board.Outside.Exec("ip", "-6", "neigh", "show", board.TenantAddress6(0)).Replace(":", ""));
        // Routed, not bridged: two hops, so the far host's TTL arrives decremented twice (64 - 2).
        Assert.Contains("ttl=62", tenant.Exec("ping", "-c", "1", "-W", "2", board.FarAddress));

        Assert.True(TcpTransfer.Send(tenant, board.Far, board.FarAddress, 5101, 1 << 20), "TCP tenant → far host");
        Assert.True(TcpTransfer.Send(board.Far, tenant, board.TenantAddress6(0), 5102, 1 << 20), "TCP far host → tenant over IPv6");
        Assert.True(pair.Peer.Counters.TxPackets > 100);
        Assert.True(pair.Primary.Counters.TxPackets > 100);

        // Management: the board's own addresses on the port stay the kernel's.
        board.Outside.Exec("ping", "-c", "1", "-W", "2", board.PortAddress);
        board.Outside.Exec("ping", "-c", "1", "-W", "2", board.PortAddress6);
    }

    /// <summary>The outside router confirms its entries for a tenant's addresses as a kernel confirms a stale entry in
    /// use (NUD probe): with ARP requests and neighbour solicitations sent to the cached MAC, the port's, not
    /// broadcast. The appliance answers those as it answers the broadcast ones, so the entries become reachable
    /// again instead of failing (and the flows to the tenant stalling until a new broadcast resolution).</summary>
    [PrivilegedFact]
    public void The_outside_routers_unicast_probes_for_a_tenants_addresses_are_answered()
    {
        using var board = new L3Board(tenants: 1);
        var rt = board.Start(board.L3Pair(0));
        Ping(board.Outside, board.TenantAddress(0));
        Ping(board.Outside, board.TenantAddress6(0));
        string mac = string.Join(":", board.PortMac().Chunk(2).Select(c => new string(c)));
        foreach (var (family, address) in new[] { ("-4", board.TenantAddress(0)), ("-6", board.TenantAddress6(0)) })
        {
            long proxied = rt.Topology.Ports[0].Proxied;
            string State() => board.Outside.Exec("ip", family, "neigh", "show", address, "dev", "o0");
            board.Outside.Exec("ip", family, "neigh", "replace", address, "lladdr", mac, "dev", "o0", "nud", "probe");
            Assert.True(Eventually.True(() => !State().Contains("PROBE"), 15000), State());
            Assert.Contains("REACHABLE", State());
            Assert.True(rt.Topology.Ports[0].Proxied > proxied, "the appliance answered the unicast probe");
        }
    }

    [PrivilegedFact]
    public void L2_and_L3_tenants_share_an_uplink_and_L3_tenants_are_isolated()
    {
        using var board = new L3Board(tenants: 3);
        var rt = board.Start(board.L3Pair(0), board.L3Pair(1), board.L2Pair(2));
        board.Tenants[2].Exec("ip", "route", "add", "default", "via", board.OutsideAddress);

        Ping(board.Outside, board.TenantAddress(0));
        Ping(board.Outside, board.TenantAddress(1));
        Ping(board.Outside, board.TenantAddress(2));  // the L2 tenant: ARP flooded to it, answered by it
        Ping(board.Tenants[2], board.FarAddress);
        Ping(board.Tenants[1], board.FarAddress);

        var first = rt.FindPair(board.PairNames[0]);
        long isolated = first.Peer.Counters.Drops(PairDropReason.Isolation);
        Assert.NotEqual(0, board.Tenants[0].TryExec("ping", "-c", "2", "-i", "0.2", "-W", "1", board.TenantAddress(1)).ExitCode);
        Assert.NotEqual(0, board.Tenants[0].TryExec("ping", "-c", "1", "-W", "1", board.TenantAddress6(1)).ExitCode);
        Assert.True(first.Peer.Counters.Drops(PairDropReason.Isolation) >= isolated + 3, "the appliance refused them (not a lost route)");
    }

    /// <summary>The L3 path allocates nothing per frame: echo requests a tenant sends go through the source check, the
    /// board's route and neighbour lookups and out of the port to the far host, and its replies come back through the
    /// port's prefix match and source check into the tenant; the workers allocate less than a byte a frame over
    /// 5,120 of them (measured on the worker threads after a warm-up, as <see cref="HotPathTests"/> does).</summary>
    [PrivilegedFact]
    public void Routing_a_tenants_frames_both_ways_allocates_nothing_per_frame()
    {
        using var board = new L3Board(tenants: 1);
        var rt = board.Start(board.L3Pair(0));
        var pair = rt.FindPair(board.PairNames[0]);
        var tenant = board.Tenants[0];
        Ping(tenant, board.FarAddress); // the outside router's MAC is in the board's neighbour table
        var tenantMac = MetaBoard.InterfaceMac(tenant.Name, L3Board.TenantInterface);
        var src = IPAddress.Parse(board.TenantAddress(0)).GetAddressBytes();
        var dst = IPAddress.Parse(board.FarAddress).GetAddressBytes();
        var frames = Enumerable.Range(1, 64).Select(i => EchoRequest(tenantMac, src, dst, (ushort)i)).ToArray();
        using var tx = Engine.PacketSocket.Open(tenant.Name, L3Board.TenantInterface, L3Frames.EtherTypeIpv4);
        long echos = EchoRequestsReceived(board.Far, v6: false), sent = 0;
        void Burst(int n)
        {
            for (int done = 0; done < n; done += 64)
            {
                foreach (var f in frames) tx.Send(f);
                sent += 64;
                Assert.True(Eventually.True(() => EchoRequestsReceived(board.Far, v6: false) - echos >= sent, 10000),
                    $"{EchoRequestsReceived(board.Far, v6: false) - echos} of {sent} echo requests reached the far host");
            }
        }

        Burst(1024); // warm-up: JIT tiers, first-use paths
        Thread.Sleep(500);
        long before = rt.Engine.WorkerAllocatedBytes, intoTenant = pair.Primary.Counters.TxPackets;
        Burst(5120);
        Thread.Sleep(500); // several health checks (100 ms each) after the last frame sample the workers' counters
        long allocated = rt.Engine.WorkerAllocatedBytes - before;
        Assert.True(pair.Primary.Counters.TxPackets - intoTenant >= 5120, "the far host's replies went back into the tenant");
        Assert.Equal(0, pair.Peer.Counters.Drops(PairDropReason.InvalidSource));
        Assert.True(allocated < 5000, $"{allocated} bytes allocated by the workers while routing 10240 frames");
    }

    /// <summary>From the port, a packet for a tenant whose source is one of the board's own addresses is spoofed: the
    /// board's own traffic to its tenants never comes in from the wire. It is dropped and counted as the port's
    /// <c>invalidSource</c>, as the kernel's fib_validate_source drops a local source as martian, so a tenant can
    /// trust what comes from the board's address. A real client: ping from the outside router bound to the board's
    /// addresses (given to its loopback).</summary>
    [PrivilegedFact]
    public void From_the_port_a_packet_from_the_boards_own_address_does_not_reach_a_tenant()
    {
        using var board = new L3Board(tenants: 1);
        var rt = board.Start(board.L3Pair(0));
        var tenant = board.Tenants[0];
        Ping(board.Outside, board.TenantAddress(0));
        Ping(board.Outside, board.TenantAddress6(0));
        board.Outside.Exec("ip", "addr", "add", board.PortAddress + "/32", "dev", "lo");
        board.Outside.Exec("ip", "addr", "add", board.PortAddress6 + "/128", "dev", "lo", "nodad");
        long Invalid() => rt.Engine.CountersOf(rt.Topology.Ports[0].Index).Drops(DropReason.InvalidSource);
        long echos = EchoRequestsReceived(tenant, v6: false), echos6 = EchoRequestsReceived(tenant, v6: true);
        long invalid = Invalid();
        Assert.NotEqual(0, board.Outside.TryExec("ping", "-c", "2", "-i", "0.2", "-W", "1", "-I", board.PortAddress, board.TenantAddress(0)).ExitCode);
        Assert.NotEqual(0, board.Outside.TryExec("ping", "-c", "2", "-i", "0.2", "-W", "1", "-I", board.PortAddress6, board.TenantAddress6(0)).ExitCode);
        Assert.Equal(echos, EchoRequestsReceived(tenant, v6: false));
        Assert.Equal(echos6, EchoRequestsReceived(tenant, v6: true));
        Assert.True(Invalid() >= invalid + 4, $"every spoofed echo was refused and counted ({Invalid() - invalid})");
        // The outside router's own addresses still reach the tenant (so the counts above can move).
        Ping(board.Outside, board.TenantAddress(0));
        Ping(board.Outside, board.TenantAddress6(0));
        Assert.True(EchoRequestsReceived(tenant, v6: false) > echos && EchoRequestsReceived(tenant, v6: true) > echos6);
    }

    /// <summary>A tenant sending to 10,000 unresolved on-link addresses (a neighbour table flood: the port's IPv6 subnet
    /// is a /64) gets the kernel asked for at most <see cref="PairRuntime.NeighbourRequestsPerSecond"/> of them a
    /// second, so the board's neighbour table (one for the whole host) holds only that many of them; another tenant's
    /// frames to a next hop the board has yet to resolve are routed right after. The bound is checked as the flood
    /// goes (64 frames at a time), so that without it the flood stops long before it could fill the host's table.</summary>
    [PrivilegedFact]
    public void A_tenant_flooding_unresolved_neighbours_gets_a_bounded_share_of_resolution()
    {
        using var board = new L3Board(tenants: 2);
        var rt = board.Start(board.L3Pair(0), board.L3Pair(1));
        var flooder = rt.FindPair(board.PairNames[0]);
        var tenantMac = MetaBoard.InterfaceMac(board.Tenants[0].Name, L3Board.TenantInterface);
        var src = IPAddress.Parse(board.TenantAddress6(0)).GetAddressBytes();
        string flooded = $"fd00:{board.B}::1:";
        using var tx = Engine.PacketSocket.Open(board.Tenants[0].Name, L3Board.TenantInterface, L3Frames.EtherTypeIpv6);
        long asked = rt.RoutingTables.ResolveRequestsSent, drops = flooder.Peer.Counters.Drops(PairDropReason.NoNeighbour);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long Bound() => PairRuntime.NeighbourRequestsPerSecond * (2 + (long)clock.Elapsed.TotalSeconds);
        for (int sent = 0; sent < 10_000;)
        {
            for (int i = 0; i < 64; i++, sent++)
                tx.Send(Udp6(tenantMac, src, IPAddress.Parse($"{flooded}{sent:x}").GetAddressBytes()));
            Assert.True(Eventually.True(() => flooder.Peer.Counters.Drops(PairDropReason.NoNeighbour) - drops >= sent, 10000),
                $"{flooder.Peer.Counters.Drops(PairDropReason.NoNeighbour) - drops} of {sent} frames dropped as noNeighbour");
            long resolving = rt.RoutingTables.ResolveRequestsSent - asked;
            Assert.True(resolving <= Bound(), $"{resolving} neighbours asked for after {sent} frames in {clock.Elapsed.TotalSeconds:F1} s");
        }
        int entries = Shell.Check("ip", "-6", "neigh", "show", "dev", board.Port).Split('\n')
            .Count(l => l.StartsWith(flooded, StringComparison.Ordinal));
        Assert.InRange(entries, 1, Bound());    // asked for (so the flood reached the kernel), but only so many
        Ping(board.Tenants[1], board.FarAddress6); // the outside router: a neighbour the board resolves now
    }

    /// <summary>An IPv6 UDP datagram with 8 bytes of payload, hop limit 64 (the board drops it before any checksum matters).</summary>
    private static byte[] Udp6(byte[] mac, byte[] src, byte[] dst)
    {
        var udp = new byte[16];
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(4), 16);
        return TestFrames.Ip(mac, mac, src, dst, 17, udp);
    }

    /// <summary>A tenant's ICMP errors about packets it received reach the far host (a real client: a datagram to a
    /// closed port of the tenant, answered by its kernel with port unreachable), but one it forges about a datagram
    /// to the other tenant (which would make the far host drop or slow that tenant's flow) is refused as
    /// <c>invalidSource</c> and never arrives.</summary>
    [PrivilegedFact]
    public void A_tenants_ICMP_errors_leave_only_about_packets_it_received()
    {
        using var board = new L3Board(tenants: 2);
        var rt = board.Start(board.L3Pair(0), board.L3Pair(1));
        var a = rt.FindPair(board.PairNames[0]);
        var tenant = board.Tenants[0];
        Ping(tenant, board.FarAddress);
        long unreachable = DestinationUnreachablesReceived(board.Far);
        board.Far.Exec("bash", "-c", $"echo x > /dev/udp/{board.TenantAddress(0)}/9");
        Assert.True(Eventually.True(() => DestinationUnreachablesReceived(board.Far) > unreachable, 5000), "the tenant's port unreachable arrived");

        unreachable = DestinationUnreachablesReceived(board.Far);
        long invalid = a.Peer.Counters.Drops(PairDropReason.InvalidSource);
        var tenantMac = MetaBoard.InterfaceMac(tenant.Name, L3Board.TenantInterface);
        var far = IPAddress.Parse(board.FarAddress).GetAddressBytes();
        var forged = PortUnreachable(tenantMac, IPAddress.Parse(board.TenantAddress(0)).GetAddressBytes(), far,
            quoted: EchoRequest(tenantMac, far, IPAddress.Parse(board.TenantAddress(1)).GetAddressBytes(), 1).AsSpan(14, 28));
        var own = PortUnreachable(tenantMac, IPAddress.Parse(board.TenantAddress(0)).GetAddressBytes(), far,
            quoted: EchoRequest(tenantMac, far, IPAddress.Parse(board.TenantAddress(0)).GetAddressBytes(), 1).AsSpan(14, 28));
        using var tx = Engine.PacketSocket.Open(tenant.Name, L3Board.TenantInterface, L3Frames.EtherTypeIpv4);
        tx.Send(forged);
        Assert.True(Eventually.True(() => a.Peer.Counters.Drops(PairDropReason.InvalidSource) > invalid, 5000), "the forged error was refused");
        tx.Send(own); // the same error about its own packet goes out (and shows the far host would have counted the forged one)
        Assert.True(Eventually.True(() => DestinationUnreachablesReceived(board.Far) > unreachable, 5000), "its own error arrived");
        Assert.Equal(unreachable + 1, DestinationUnreachablesReceived(board.Far));
    }

    /// <summary>An IPv4 ICMP port unreachable (checksums valid) quoting <paramref name="quoted"/>.</summary>
    private static byte[] PortUnreachable(byte[] mac, byte[] src, byte[] dst, ReadOnlySpan<byte> quoted) =>
        TestFrames.Ip(mac, mac, src, dst, 1, TestFrames.Icmp(3, 3, 0, quoted));

    /// <summary>ICMP destination unreachable messages a namespace's kernel received (/proc/net/snmp Icmp InDestUnreachs).</summary>
    private static long DestinationUnreachablesReceived(NetNamespace ns)
    {
        var icmp = ns.Exec("cat", "/proc/net/snmp").Split('\n').Where(l => l.StartsWith("Icmp:", StringComparison.Ordinal)).ToArray();
        var names = icmp[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return long.Parse(icmp[1].Split(' ', StringSplitOptions.RemoveEmptyEntries)[Array.IndexOf(names, "InDestUnreachs")]);
    }

    /// <summary>An IPv4 ICMP echo request (checksums valid), TTL 64.</summary>
    private static byte[] EchoRequest(byte[] dstMac, byte[] src, byte[] dst, ushort sequence) =>
        TestFrames.Ip(dstMac, dstMac, src, dst, 1, TestFrames.Icmp(8, 0, 0x4c33_0000u | sequence, new byte[32]), id: sequence);

    /// <summary>ICMP echo requests a namespace's kernel received (IPv4: /proc/net/snmp Icmp InEchos; IPv6:
    /// /proc/net/snmp6 Icmp6InEchos).</summary>
    private static long EchoRequestsReceived(NetNamespace ns, bool v6)
    {
        if (v6)
        {
            var line = ns.Exec("cat", "/proc/net/snmp6").Split('\n').Single(l => l.StartsWith("Icmp6InEchos ", StringComparison.Ordinal));
            return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        }
        var icmp = ns.Exec("cat", "/proc/net/snmp").Split('\n').Where(l => l.StartsWith("Icmp:", StringComparison.Ordinal)).ToArray();
        var names = icmp[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var values = icmp[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return long.Parse(values[Array.IndexOf(names, "InEchos")]);
    }

    [PrivilegedFact]
    public void A_tenant_cannot_send_as_another_tenant_or_as_the_board()
    {
        using var board = new L3Board(tenants: 2);
        var rt = board.Start(board.L3Pair(0), board.L3Pair(1));
        var a = rt.FindPair(board.PairNames[0]);
        var b = rt.FindPair(board.PairNames[1]);
        var tenant = board.Tenants[0];
        Ping(tenant, board.FarAddress);
        Ping(tenant, board.FarAddress6);

        // Tenant a takes b's addresses and the board's onto its own interface and sends from them (a real client:
        // ping bound to the stolen source). None of it leaves the appliance; b receives no answers.
        tenant.Exec("ip", "addr", "add", board.TenantAddress(1) + "/32", "dev", L3Board.TenantInterface);
        tenant.Exec("ip", "addr", "add", board.PortAddress + "/32", "dev", L3Board.TenantInterface);
        tenant.Exec("ip", "addr", "add", board.TenantAddress6(1) + "/128", "dev", L3Board.TenantInterface, "nodad");
        tenant.Exec("ip", "addr", "add", board.PortAddress6 + "/128", "dev", L3Board.TenantInterface, "nodad");
        long farEchos = EchoRequestsReceived(board.Far, v6: false), farEchos6 = EchoRequestsReceived(board.Far, v6: true);
        long invalid = a.Peer.Counters.Drops(PairDropReason.InvalidSource);
        long intoB = b.Primary.Counters.TxPackets;
        foreach (var (source, target) in new[]
                 {
                     (board.TenantAddress(1), board.FarAddress), (board.PortAddress, board.FarAddress),
                     (board.TenantAddress6(1), board.FarAddress6), (board.PortAddress6, board.FarAddress6),
                 })
            Assert.NotEqual(0, tenant.TryExec("ping", "-c", "2", "-i", "0.2", "-W", "1", "-I", source, target).ExitCode);
        Assert.True(a.Peer.Counters.Drops(PairDropReason.InvalidSource) >= invalid + 8, "every spoofed echo was refused and counted");
        Assert.Equal(farEchos, EchoRequestsReceived(board.Far, v6: false));
        Assert.Equal(farEchos6, EchoRequestsReceived(board.Far, v6: true));
        Assert.Equal(intoB, b.Primary.Counters.TxPackets);

        // The tenant's own traffic still flows (and reaches the far host's counters, so the checks above can fail).
        tenant.Exec("ping", "-c", "2", "-i", "0.2", "-W", "2", "-I", board.TenantAddress(0), board.FarAddress);
        tenant.Exec("ping", "-c", "2", "-i", "0.2", "-W", "2", "-I", board.TenantAddress6(0), board.FarAddress6);
        Assert.True(EchoRequestsReceived(board.Far, v6: false) >= farEchos + 2);
        Assert.True(EchoRequestsReceived(board.Far, v6: true) >= farEchos6 + 2);
        Ping(board.Tenants[1], board.FarAddress);  // and b's
    }

    /// <summary>An L3 tenant with a /28 and a /124 around its address: the board's own address inside them.</summary>
    private static Config.PairConfig WidePair(L3Board board) => board.L3Pair(0) with
    {
        Tenant = board.L3Pair(0).Tenant with
        {
            Addresses = [Config.InterfaceAddress.Parse(board.TenantAddress(0) + "/28"), Config.InterfaceAddress.Parse(board.TenantAddress6(0) + "/124")],
        },
    };

    private static string InsideV4(L3Board board) => board.TenantAddress(0)[..board.TenantAddress(0).LastIndexOf('.')] + ".60"; // in .48/28
    private static string InsideV6(L3Board board) => board.TenantAddress6(0)[..board.TenantAddress6(0).LastIndexOf(':')] + ":5c"; // in ::50/124

    /// <summary>The board's own address inside an L3 tenant's prefix stays the board's, as the kernel's local table wins
    /// over a route: given to the port while running, the outside reaches the board at it (ARP, ND and echo answered
    /// by the board's kernel, not steered to the tenant, which has no such address and answers nothing), the tenant's
    /// other addresses still go to the tenant, and taken away again the address is the tenant's once more.</summary>
    [PrivilegedFact]
    public void The_boards_own_address_inside_a_tenants_prefix_stays_the_boards_when_it_comes_and_goes()
    {
        using var board = new L3Board(tenants: 1);
        var rt = board.Start(WidePair(board));
        var steering = rt.Topology.Ports[0].Steering!;
        string v4 = InsideV4(board), v6 = InsideV6(board);
        Ping(board.Outside, board.TenantAddress(0));
        Ping(board.Outside, board.TenantAddress6(0));
        Assert.Equal(0, steering.L3BoardAddressCount);
        // Before the board has it, the address is the tenant's: steered there, and the tenant does not answer.
        Assert.NotEqual(0, board.Outside.TryExec("ping", "-c", "1", "-W", "1", v4).ExitCode);

        Shell.Check("ip", "addr", "add", v4 + "/32", "dev", board.Port);
        Shell.Check("ip", "addr", "add", v6 + "/128", "dev", board.Port, "nodad");
        try
        {
            Assert.True(Eventually.True(() => steering.L3BoardAddressCount == 2), "both addresses left to the kernel");
            board.Outside.Exec("ip", "neigh", "flush", "dev", "o0");
            Ping(board.Outside, v4);
            Ping(board.Outside, v6);
            Ping(board.Outside, board.TenantAddress(0));
            Ping(board.Outside, board.TenantAddress6(0));
        }
        finally
        {
            Shell.Run("ip", "addr", "del", v4 + "/32", "dev", board.Port);
            Shell.Run("ip", "addr", "del", v6 + "/128", "dev", board.Port);
        }
        Assert.True(Eventually.True(() => steering.L3BoardAddressCount == 0), "the addresses are the tenant's again");
        Assert.NotEqual(0, board.Outside.TryExec("ping", "-c", "2", "-i", "0.2", "-W", "1", v4).ExitCode);
        Ping(board.Outside, board.TenantAddress(0));
    }

    /// <summary>The board's address inside a tenant's prefix before the appliance starts: the board answers at it from
    /// the first frame, and the tenant cannot send from it (counted as invalidSource), though it is in its prefix.</summary>
    [PrivilegedFact]
    public void A_tenant_cannot_take_or_send_from_the_boards_address_inside_its_prefix()
    {
        using var board = new L3Board(tenants: 1);
        string v4 = InsideV4(board), v6 = InsideV6(board);
        Shell.Check("ip", "addr", "add", v4 + "/32", "dev", board.Port);
        Shell.Check("ip", "addr", "add", v6 + "/128", "dev", board.Port, "nodad");
        try
        {
            var rt = board.Start(WidePair(board));
            var pair = rt.FindPair(board.PairNames[0]);
            var tenant = board.Tenants[0];
            Assert.Equal(2, rt.Topology.Ports[0].Steering!.L3BoardAddressCount);
            Ping(board.Outside, v4);
            Ping(board.Outside, v6);
            Ping(tenant, board.FarAddress);
            Ping(tenant, board.FarAddress6);

            tenant.Exec("ip", "addr", "add", v4 + "/32", "dev", L3Board.TenantInterface);
            tenant.Exec("ip", "addr", "add", v6 + "/128", "dev", L3Board.TenantInterface, "nodad");
            long farEchos = EchoRequestsReceived(board.Far, v6: false), farEchos6 = EchoRequestsReceived(board.Far, v6: true);
            long invalid = pair.Peer.Counters.Drops(PairDropReason.InvalidSource);
            Assert.NotEqual(0, tenant.TryExec("ping", "-c", "2", "-i", "0.2", "-W", "1", "-I", v4, board.FarAddress).ExitCode);
            Assert.NotEqual(0, tenant.TryExec("ping", "-c", "2", "-i", "0.2", "-W", "1", "-I", v6, board.FarAddress6).ExitCode);
            Assert.True(pair.Peer.Counters.Drops(PairDropReason.InvalidSource) >= invalid + 4, "every echo from the board's address was refused and counted");
            Assert.Equal(farEchos, EchoRequestsReceived(board.Far, v6: false));
            Assert.Equal(farEchos6, EchoRequestsReceived(board.Far, v6: true));
            // Its own address still goes out (so the counts above can move).
            tenant.Exec("ping", "-c", "2", "-i", "0.2", "-W", "2", "-I", board.TenantAddress(0), board.FarAddress);
            Assert.True(EchoRequestsReceived(board.Far, v6: false) >= farEchos + 2);
        }
        finally
        {
            Shell.Run("ip", "addr", "del", v4 + "/32", "dev", board.Port);
            Shell.Run("ip", "addr", "del", v6 + "/128", "dev", board.Port);
        }
    }

    [PrivilegedFact]
    public void A_route_change_on_the_board_is_followed_without_a_restart()
    {
        using var board = new L3Board(tenants: 1);
        var rt = board.Start(board.L3Pair(0));
        var pair = rt.FindPair(board.PairNames[0]);
        var tenant = board.Tenants[0];
        var far = IPAddress.Parse(board.FarAddress).GetAddressBytes();
        Ping(tenant, board.FarAddress);

        Shell.Check("ip", "route", "replace", "blackhole", board.FarSubnet);
        Assert.True(Eventually.True(() => rt.RoutingTables.Routes.Lookup(IpFamily.Inet, far)?.Kind == RouteKind.Blackhole), "the blackhole arrived");
        long noRoute = pair.Peer.Counters.Drops(PairDropReason.NoRoute);
        Assert.NotEqual(0, tenant.TryExec("ping", "-c", "2", "-i", "0.2", "-W", "1", board.FarAddress).ExitCode);
        Assert.True(pair.Peer.Counters.Drops(PairDropReason.NoRoute) >= noRoute + 2);

        Shell.Check("ip", "route", "replace", board.FarSubnet, "via", board.OutsideAddress, "dev", board.Port);
        Assert.True(Eventually.True(() => rt.RoutingTables.Routes.Lookup(IpFamily.Inet, far)?.Kind == RouteKind.Unicast), "the route is back");
        Ping(tenant, board.FarAddress);
    }

    [PrivilegedFact]
    public void A_reload_adds_and_removes_an_L3_pair_while_running()
    {
        using var board = new L3Board(tenants: 2);
        var rt = board.Start(board.L2Pair(1));
        var port = rt.Topology.Ports[0];
        Assert.Equal(0, port.Steering!.L3PrefixCount);

        var plan = rt.Plan(rt.Config with { Pairs = [.. rt.Config.Pairs, board.L3Pair(0)] });
        Assert.Contains(plan.Steps, s => s.ToString().Contains(board.PairNames[0]));
        rt.Apply(plan);
        Assert.Equal(2, port.Steering!.L3PrefixCount); // its /32 and /128 are steered to AF_XDP now
        Ping(board.Far, board.TenantAddress(0));
        Ping(board.Tenants[0], board.FarAddress6);

        rt.Apply(rt.Plan(rt.Config with { Pairs = [.. rt.Config.Pairs.Where(p => p.Name != board.PairNames[0])] }));
        Assert.Equal(0, port.Steering!.L3PrefixCount);
        Assert.Equal(0, port.L3Prefixes.Count);
        board.Outside.Exec("ip", "neigh", "flush", "dev", "o0");
        Assert.NotEqual(0, board.Far.TryExec("ping", "-c", "1", "-W", "1", board.TenantAddress(0)).ExitCode);
        Ping(board.Outside, board.TenantAddress(1)); // the L2 tenant kept forwarding
    }

    [PrivilegedFact]
    public void A_reload_that_gives_an_L3_tenant_its_first_IPv6_address_adds_its_IPv6_default_route()
    {
        using var board = new L3Board(tenants: 1);
        var dual = board.L3Pair(0);
        var v4Only = dual with { Tenant = dual.Tenant with { Addresses = [.. dual.Tenant.Addresses.Where(a => !a.IsIPv6)] } };
        var rt = board.Start(v4Only);
        var tenant = board.Tenants[0];
        Assert.DoesNotContain("default", tenant.Exec("ip", "-6", "route", "show"));
        Ping(tenant, board.FarAddress);

        rt.Apply(rt.Plan(rt.Config with { Pairs = [dual] }));
        Assert.Contains($"default dev {L3Board.TenantInterface}", tenant.Exec("ip", "-6", "route", "show"));
        Ping(tenant, board.FarAddress6);
        Ping(board.Far, board.TenantAddress6(0));

        rt.Apply(rt.Plan(rt.Config with { Pairs = [v4Only] }));
        Assert.DoesNotContain("default", tenant.Exec("ip", "-6", "route", "show"));
        Assert.Contains($"default dev {L3Board.TenantInterface}", tenant.Exec("ip", "route", "show"));
        Ping(tenant, board.FarAddress);
    }

    /// <summary>A reload that sets the port's MAC: the appliance answers ARP for its L3 tenants with the new MAC and
    /// routes their frames to it; it kept the MAC the port had at start (found by the live-edit walk, LiveEditWalkTests).</summary>
    [PrivilegedFact]
    public void A_reload_that_sets_the_ports_MAC_proxies_and_routes_with_the_new_one()
    {
        using var board = new L3Board(tenants: 1);
        var rt = board.Start(board.L3Pair(0));
        var mac = Appliance.Config.MacAddress.Parse("02:00:00:00:e1:01");
        rt.Apply(rt.Plan(rt.Config with { Ports = [rt.Config.Ports[0] with { Mac = mac }] }));
        Assert.Equal(mac, rt.Topology.Ports[0].Mac);
        board.Outside.Exec("ip", "neigh", "flush", "dev", "o0");
        Ping(board.Far, board.TenantAddress(0));
        Assert.Contains("lladdr 02:00:00:00:e1:01", board.Outside.Exec("ip", "neigh", "show", board.TenantAddress(0)));
    }

    /// <summary>A reload that swaps every IPv4 address of an L3 tenant (a new /32 instead of its old one, as a move to
    /// another uplink's subnet does) keeps its IPv4 default route: Linux deletes a device's IPv4 routes with its last
    /// IPv4 address, which the reload removes before it adds the new one (it had no default route after, unlike a start
    /// with that config; found by the live-edit walk, LiveEditWalkTests).</summary>
    [PrivilegedFact]
    public void A_reload_that_swaps_an_L3_tenants_IPv4_address_keeps_its_default_route()
    {
        using var board = new L3Board(tenants: 2);
        var pair = board.L3Pair(0);
        var rt = board.Start(pair);
        var tenant = board.Tenants[0];
        var moved = pair with
        {
            Tenant = pair.Tenant with { Addresses = [Appliance.Config.InterfaceAddress.Parse(board.TenantAddress(1) + "/32"), .. pair.Tenant.Addresses.Where(a => a.IsIPv6)] },
        };
        rt.Apply(rt.Plan(rt.Config with { Pairs = [moved] }));
        Assert.Contains($"default dev {L3Board.TenantInterface}", tenant.Exec("ip", "route", "show"));
        Ping(tenant, board.FarAddress);
        Ping(board.Far, board.TenantAddress(1));
    }

    /// <summary>An Ethernet + IPv4 ICMP echo request, checksums valid, with an 802.1Q tag when <paramref name="vlan"/> is set.</summary>
    private static byte[] Echo(string source, string destination, ushort vlan, byte[]? dstMac = null) =>
        TestFrames.Ip(dstMac ?? [0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [0x02, 0, 0, 0, 0x0c, 0x01], IPAddress.Parse(source).GetAddressBytes(),
            IPAddress.Parse(destination).GetAddressBytes(), 1, TestFrames.Icmp(8, 0, 0x4d41_0001u, new byte[8]), tag: vlan);

    /// <summary>An L3 tenant that sends VLAN-tagged frames (raw frames with the tag in the bytes, from a packet socket
    /// in its namespace; this kernel has no 8021q): nothing leaves, each is counted as vlanTagged. The same echo
    /// untagged is routed and reaches the far host.</summary>
    [PrivilegedFact]
    public void Tagged_frames_from_an_L3_tenant_are_dropped_as_vlanTagged()
    {
        using var board = new L3Board(tenants: 1);
        var rt = board.Start(board.L3Pair(0));
        var pair = rt.FindPair(board.PairNames[0]);
        Ping(board.Tenants[0], board.FarAddress);
        using var socket = PacketSocket.Open(board.Tenants[0].Name, L3Board.TenantInterface, 0x0800);
        long tagged = pair.Peer.Counters.Drops(PairDropReason.VlanTagged);
        long farEchos = EchoRequestsReceived(board.Far, v6: false);

        for (int i = 0; i < 3; i++) socket.Send(Echo(board.TenantAddress(0), board.FarAddress, vlan: 7));
        Assert.True(Eventually.True(() => pair.Peer.Counters.Drops(PairDropReason.VlanTagged) >= tagged + 3), "the tagged echoes were dropped as vlanTagged");
        socket.Send(Echo(board.TenantAddress(0), board.FarAddress, vlan: 0));
        Assert.True(Eventually.True(() => EchoRequestsReceived(board.Far, v6: false) > farEchos), "the untagged echo was routed");
        Assert.Equal(farEchos + 1, EchoRequestsReceived(board.Far, v6: false)); // only that one
    }

    /// <summary>From the world, a tagged frame for an L3 tenant (to the port's MAC, the tag in the bytes) is not steered
    /// to the tenant: the XDP rules match untagged frames only, so it stays the kernel's. The same echo untagged is.</summary>
    [PrivilegedFact]
    public void Tagged_frames_from_the_port_do_not_reach_an_L3_tenant()
    {
        using var board = new L3Board(tenants: 1);
        var rt = board.Start(board.L3Pair(0));
        var pair = rt.FindPair(board.PairNames[0]);
        Ping(board.Outside, board.TenantAddress(0));
        var portMac = Convert.FromHexString(board.PortMac());
        using var socket = PacketSocket.Open(board.Outside.Name, "o0", 0x0800);
        long tenantEchos = EchoRequestsReceived(board.Tenants[0], v6: false);
        long intoTenant = pair.Primary.Counters.RxPackets;

        for (int i = 0; i < 3; i++) socket.Send(Echo(board.OutsideAddress, board.TenantAddress(0), vlan: 7, portMac));
        socket.Send(Echo(board.OutsideAddress, board.TenantAddress(0), vlan: 0, portMac));
        Assert.True(Eventually.True(() => EchoRequestsReceived(board.Tenants[0], v6: false) > tenantEchos), "the untagged echo reached the tenant");
        Assert.Equal(tenantEchos + 1, EchoRequestsReceived(board.Tenants[0], v6: false)); // only that one
        Assert.Equal(intoTenant + 1, pair.Primary.Counters.RxPackets);
    }
}
