using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using Appliance.Config;
using Appliance.Datapath.Forwarding;
using Appliance.Datapath.Runtime;
using Appliance.Datapath.Tests.Engine;
using Appliance.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Appliance.Datapath.Tests.Runtime;

/// <summary>A tenant cannot make itself the LAN's IPv6 default router or its DHCP server: an outside host that takes
/// router advertisements (accept_ra=2) gets no default route from a tenant's, and a real DHCP client (busybox udhcpc)
/// no lease from a rogue server in a tenant (busybox udhcpd) — until a live reload lets that tenant serve
/// (<c>tenant.serves</c>), when the same host does get them (so each test can fail).</summary>
[Collection(KernelCollection.Name)]
public sealed class RogueServiceTests(ITestOutputHelper output)
{
    /// <summary>Reloads the running config with the tenant of the one pair serving <paramref name="serves"/>; returns the plan's text.</summary>
    private static string Serve(ApplianceRuntime rt, params TenantService[] serves)
    {
        var pair = Assert.Single(rt.Config.Pairs);
        var plan = rt.Plan(rt.Config with { Pairs = [pair with { Tenant = pair.Tenant with { Serves = serves } }] });
        rt.Apply(plan);
        return plan.Describe();
    }

    /// <summary>A router advertisement from <paramref name="mac"/> (link-local source made from it, router lifetime
    /// 1800 s, source link-layer address option), to all nodes, with its checksum: what a hostile tenant crafts.</summary>
    internal static byte[] RouterAdvertisement(MacAddress mac, out string source)
    {
        var m = mac.GetBytes();
        source = IPAddress.Parse($"fe80::{m[0] ^ 2:x2}{m[1]:x2}:{m[2]:x2}ff:fe{m[3]:x2}:{m[4]:x2}{m[5]:x2}").ToString(); // as ip prints it
        var icmp = new byte[16 + 8];
        icmp[0] = 134;
        icmp[4] = 64;                                        // current hop limit
        BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(6), 1800); // router lifetime: a default router
        icmp[16] = 1;                                        // source link-layer address option, 8 bytes
        icmp[17] = 1;
        m.CopyTo(icmp, 18);
        var f = TestFrames.Ip([0x33, 0x33, 0, 0, 0, 1], m, IPAddress.Parse(source).GetAddressBytes(), IPAddress.Parse("ff02::1").GetAddressBytes(), 58, icmp);
        f[14 + 7] = 255;
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(14 + 40 + 2), L3Frames.IcmpV6Checksum(f.AsSpan(14), icmp.Length));
        return f;
    }

    private static string DefaultRoute(MetaBoard board) =>
        board.Outside.Exec("ip", "-6", "route", "show", "default", "dev", MetaBoard.OutsideInterface(0)).Trim();

    [PrivilegedFact]
    public void A_tenant_is_the_LANs_IPv6_default_router_only_when_it_serves_as_router()
    {
        using var board = new MetaBoard(ports: 1, tenants: 1);
        // The outside host takes router advertisements (also were it forwarding: accept_ra=2), at once (no DAD wait).
        board.Outside.Exec("sysctl", "-qw", $"net.ipv6.conf.{MetaBoard.OutsideInterface(0)}.disable_ipv6=0",
            $"net.ipv6.conf.{MetaBoard.OutsideInterface(0)}.accept_ra=2", $"net.ipv6.conf.{MetaBoard.OutsideInterface(0)}.accept_dad=0");
        var rt = board.Start([board.Port(0)], [board.Pair(0)]);
        var pair = rt.FindPair(board.PairNames[0]);
        var ra = RouterAdvertisement(MetaBoard.TenantMac(0), out string router);

        using (var tx = PacketSocket.Open(board.Tenants[0].Name, MetaBoard.TenantInterface, 0x86dd))
            for (int i = 0; i < 3; i++) tx.Send(ra);
        Eventually.Equal(3L, () => pair.Peer.Counters.Drops(PairDropReason.RogueService), "the router advertisements dropped as rogueService");
        Assert.Equal("", DefaultRoute(board));

        string plan = Serve(rt, TenantService.Router);
        output.WriteLine(plan);
        Assert.Contains("serves (none) → router (the peer side takes it at commit)", plan);
        using (var tx = PacketSocket.Open(board.Tenants[0].Name, MetaBoard.TenantInterface, 0x86dd))
            tx.Send(ra);
        Assert.True(Eventually.True(() => DefaultRoute(board).Contains($"via {router} ", StringComparison.Ordinal), 3000),
            $"the outside host took the tenant for its default router: \"{DefaultRoute(board)}\"");
        Assert.Equal(3, pair.Peer.Counters.Drops(PairDropReason.RogueService));
    }

    /// <summary>Runs busybox udhcpc on the outside end: at most 2 discovers 1 s apart, no script (nothing is
    /// configured); returns its output when it got a lease, null when not.</summary>
    private string? Lease(MetaBoard board)
    {
        var r = Shell.RunWithTimeout(TimeSpan.FromSeconds(15), "ip", "netns", "exec", board.Outside.Name,
            "busybox", "udhcpc", "-i", MetaBoard.OutsideInterface(0), "-f", "-q", "-n", "-t", "2", "-T", "1", "-s", "/bin/true");
        output.WriteLine($"udhcpc exit {r.ExitCode}: {r.StdOut}{r.StdErr}");
        return r.ExitCode == 0 && (r.StdOut + r.StdErr).Contains("obtained", StringComparison.Ordinal) ? r.StdOut + r.StdErr : null;
    }

    [PrivilegedFact]
    public void A_rogue_DHCP_server_in_a_tenant_leases_nothing_unless_the_tenant_serves_DHCP()
    {
        using var board = new MetaBoard(ports: 1, tenants: 1);
        var rt = board.Start([board.Port(0)], [board.Pair(0, withAddress: true)]);
        var pair = rt.FindPair(board.PairNames[0]);
        var tenant = board.Tenants[0];
        string dir = Path.Combine(Path.GetTempPath(), $"mapp-dhcp-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        string conf = Path.Combine(dir, "udhcpd.conf");
        File.WriteAllText(conf, $"""
            interface {MetaBoard.TenantInterface}
            start 10.50.0.100
            end 10.50.0.110
            lease_file {dir}/leases
            pidfile {dir}/udhcpd.pid
            option subnet 255.255.255.0
            option router {MetaBoard.TenantAddress(0, 0)}
            """);
        var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true };
        // ip netns exec runs udhcpd in its place: this process is the server. ARP check of an offered address: 100 ms.
        foreach (var a in new[] { "netns", "exec", tenant.Name, "busybox", "udhcpd", "-f", "-a", "100", conf }) psi.ArgumentList.Add(a);
        using var server = Process.Start(psi)!;
        try
        {
            Assert.True(Eventually.True(() => tenant.TryExec("ss", "-lunH", "sport = :67").StdOut.Contains(":67", StringComparison.Ordinal), 5000),
                "udhcpd listens in the tenant");

            Assert.Null(Lease(board));
            // The server did answer (each discover reached it through the flooder): its offers were dropped.
            Assert.True(pair.Peer.Counters.Drops(PairDropReason.RogueService) >= 1, "the rogue server's offers were dropped as rogueService");

            output.WriteLine(Serve(rt, TenantService.Dhcp));
            string? lease = Lease(board);
            Assert.NotNull(lease);
            Assert.Contains($"obtained from {MetaBoard.TenantAddress(0, 0)}", lease);
        }
        finally
        {
            if (!server.HasExited) server.Kill();
            server.WaitForExit(5000);
            output.WriteLine($"udhcpd: {server.StandardError.ReadToEnd()}{server.StandardOutput.ReadToEnd()}");
            Directory.Delete(dir, recursive: true);
        }
    }
}
