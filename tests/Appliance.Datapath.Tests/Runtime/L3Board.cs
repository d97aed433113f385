using Appliance.Config;
using Appliance.Datapath.Runtime;
using Appliance.TestSupport;

namespace Appliance.Datapath.Tests.Runtime;

/// <summary>A routed test board for L3 pairs: the board's port (a veth in the test's namespace, where the appliance
/// runs, with IPv4 and IPv6 addresses) faces an "outside" namespace that is a router (forwarding on) to a "far"
/// namespace two hops from the tenants; the board routes the far subnets via the outside router. Tenant namespaces
/// have IPv6 on. Subnets are chosen per test process (10.B.0.0/24 and fd00:B::/64 on the port, B+1 behind the router).
/// Everything is deleted on Dispose, the appliance first, also after a failed test; the board routes too.</summary>
public sealed class L3Board : IDisposable
{
    public const string TenantInterface = "eth0";
    private readonly List<NetNamespace> _namespaces = [];
    private ApplianceRuntime? _runtime;

    public int B { get; } = 100 + Environment.ProcessId % 50 * 2;
    public NetNamespace Outside { get; }
    public NetNamespace Far { get; }
    public string Port { get; }
    public NetNamespace[] Tenants { get; }
    public string[] PairNames { get; }

    public string PortAddress => $"10.{B}.0.254";
    public string PortAddress6 => $"fd00:{B}::254";
    public string OutsideAddress => $"10.{B}.0.1";
    public string OutsideAddress6 => $"fd00:{B}::1";
    public string FarSubnet => $"10.{B + 1}.0.0/24";
    public string FarSubnet6 => $"fd00:{B + 1}::/64";
    public string FarAddress => $"10.{B + 1}.0.2";
    public string FarAddress6 => $"fd00:{B + 1}::2";
    /// <summary>Tenant t's addresses: on-link in the port's subnet (the outside resolves them: proxy ARP/ND).</summary>
    public string TenantAddress(int t) => $"10.{B}.0.{50 + t}";
    public string TenantAddress6(int t) => $"fd00:{B}::{50 + t}";

    public L3Board(int tenants)
    {
        Outside = Track(new NetNamespace("l3out"));
        Far = Track(new NetNamespace("l3far"));
        try
        {
            Port = NetNamespace.UniqueInterface("mapl");
            Shell.Check("ip", "link", "add", Port, "type", "veth", "peer", "name", "o0", "netns", Outside.Name);
            Shell.Check("sysctl", "-qw", $"net.ipv6.conf.{Port}.disable_ipv6=0");
            Shell.Check("ip", "addr", "add", PortAddress + "/24", "dev", Port);
            Shell.Check("ip", "addr", "add", PortAddress6 + "/64", "dev", Port, "nodad");
            Shell.Check("ip", "link", "set", Port, "up");
            Outside.Exec("ip", "link", "add", "o1", "type", "veth", "peer", "name", "f0", "netns", Far.Name);
            Outside.Exec("ip", "addr", "add", OutsideAddress + "/24", "dev", "o0");
            Outside.Exec("ip", "addr", "add", OutsideAddress6 + "/64", "dev", "o0", "nodad");
            Outside.Exec("ip", "addr", "add", $"10.{B + 1}.0.1/24", "dev", "o1");
            Outside.Exec("ip", "addr", "add", $"fd00:{B + 1}::1/64", "dev", "o1", "nodad");
            Outside.Exec("sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1");
            foreach (var i in new[] { "o0", "o1" }) Outside.Exec("ip", "link", "set", i, "up");
            Outside.Exec("ethtool", "-K", "o0", "tx", "off");
            Far.Exec("ip", "addr", "add", FarAddress + "/24", "dev", "f0");
            Far.Exec("ip", "addr", "add", FarAddress6 + "/64", "dev", "f0", "nodad");
            Far.Exec("ip", "link", "set", "f0", "up");
            Far.Exec("ip", "route", "add", "default", "via", $"10.{B + 1}.0.1");
            Far.Exec("ip", "-6", "route", "add", "default", "via", $"fd00:{B + 1}::1");
            Shell.Check("ip", "route", "add", FarSubnet, "via", OutsideAddress, "dev", Port);
            Shell.Check("ip", "-6", "route", "add", FarSubnet6, "via", OutsideAddress6, "dev", Port);
            Tenants = new NetNamespace[tenants];
            PairNames = new string[tenants];
            for (int t = 0; t < tenants; t++)
            {
                Tenants[t] = Track(new NetNamespace("l3ten"));
                PairNames[t] = NetNamespace.UniqueInterface("mpl");
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private NetNamespace Track(NetNamespace ns)
    {
        _namespaces.Add(ns);
        return ns;
    }

    public PortConfig PortConfig() => new() { Name = Port, Unclaimed = UnclaimedPolicy.Kernel };

    /// <summary>An L3 pair for tenant <paramref name="t"/> with a /32 and a /128 (no MAC).</summary>
    public PairConfig L3Pair(int t) => new()
    {
        Name = PairNames[t],
        Mode = PairMode.L3,
        Uplink = Port,
        Tenant = new TenantConfig
        {
            Netns = Tenants[t].Name,
            Interface = TenantInterface,
            Addresses = [InterfaceAddress.Parse(TenantAddress(t) + "/32"), InterfaceAddress.Parse(TenantAddress6(t) + "/128")],
        },
    };

    /// <summary>An L2 pair for tenant <paramref name="t"/> on the same port: its own MAC, an address in the port's subnet.</summary>
    public PairConfig L2Pair(int t) => new()
    {
        Name = PairNames[t],
        Mode = PairMode.L2,
        Uplink = Port,
        Tenant = new TenantConfig
        {
            Netns = Tenants[t].Name,
            Interface = TenantInterface,
            Mac = MacAddress.Parse($"02:00:00:00:0b:{t + 1:x2}"),
            Addresses = [InterfaceAddress.Parse(TenantAddress(t) + "/24")],
        },
    };

    public ApplianceRuntime Start(params PairConfig[] pairs)
    {
        _runtime = ApplianceRuntime.Start(new ApplianceConfig
        {
            Board = "test",
            ControlSocket = Path.Combine(Path.GetTempPath(), $"mapp-{Guid.NewGuid():N}.sock"),
            Ports = [PortConfig()],
            Pairs = pairs,
            Programs = [],
        }, new RuntimeOptions { ConfigDirectory = ".", SweepStale = false });
        return _runtime;
    }

    public string PortMac() => Convert.ToHexString(MetaBoard.InterfaceMac(null, Port)).ToLowerInvariant();

    public void Dispose()
    {
        try { _runtime?.Dispose(); }
        finally
        {
            Shell.Run("ip", "route", "del", FarSubnet);
            Shell.Run("ip", "-6", "route", "del", FarSubnet6);
            if (Port is not null) Shell.Run("ip", "link", "del", Port);
            foreach (var pn in PairNames ?? []) if (pn is not null) Shell.Run("ip", "link", "del", pn);
            foreach (var ns in _namespaces) ns.Dispose();
        }
    }
}
