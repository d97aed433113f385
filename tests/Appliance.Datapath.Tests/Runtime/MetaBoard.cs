using Appliance.Config;
using Appliance.Datapath.Runtime;
using Appliance.TestSupport;

namespace Appliance.Datapath.Tests.Runtime;

/// <summary>A namespaced test board: ports are veths whose board end is in the test's namespace (where the
/// appliance runs) and whose other end (o0, o1, ...) is in the "outside" namespace; tenants get namespaces of their
/// own (created here with IPv6 off, so the only frames are the test's). Everything is deleted on Dispose, the
/// appliance first, also after a failed test.</summary>
public sealed class MetaBoard : IDisposable
{
    public const string TenantInterface = "eth0";

    private readonly List<NetNamespace> _namespaces = [];
    private ApplianceRuntime? _runtime;

    public NetNamespace Outside { get; }
    public string[] Ports { get; }
    public NetNamespace[] Tenants { get; }
    public string[] PairNames { get; }

    public static string OutsideInterface(int port) => $"o{port}";
    public static MacAddress TenantMac(int tenant) => MacAddress.Parse($"02:00:00:00:0a:{tenant + 1:x2}");
    public static string OutsideAddress(int port) => $"10.{50 + port}.0.1";
    public static string TenantAddress(int tenant, int port) => $"10.{50 + port}.0.{10 + tenant}";
    public static string PortAddress(int port) => $"10.{50 + port}.0.254";
    public static string OutsideAddress6(int port) => $"fd00:{50 + port}::1";
    public static string PortAddress6(int port) => $"fd00:{50 + port}::fe";

    /// <param name="queues">RX/TX queues of each port's veth (one per forwarding worker: see the threading model).</param>
    public MetaBoard(int ports, int tenants, int queues = 1)
    {
        Outside = Track(new NetNamespace("out"));
        try
        {
            NoIpv6(Outside);
            Ports = new string[ports];
            for (int i = 0; i < ports; i++)
            {
                Ports[i] = NetNamespace.UniqueInterface("mapp");
                Shell.Check("ip", "link", "add", Ports[i], "numtxqueues", $"{queues}", "numrxqueues", $"{queues}", "type", "veth",
                    "peer", "name", OutsideInterface(i), "numtxqueues", $"{queues}", "numrxqueues", $"{queues}", "netns", Outside.Name);
                Shell.Check("sysctl", "-qw", $"net.ipv6.conf.{Ports[i]}.disable_ipv6=1");
                Shell.Check("ip", "link", "set", Ports[i], "up");
                Outside.Exec("ip", "link", "set", OutsideInterface(i), "up");
                Outside.Exec("ethtool", "-K", OutsideInterface(i), "tx", "off");
            }
            Tenants = new NetNamespace[tenants];
            PairNames = new string[tenants];
            for (int t = 0; t < tenants; t++)
            {
                Tenants[t] = Track(new NetNamespace("ten"));
                NoIpv6(Tenants[t]);
                PairNames[t] = NetNamespace.UniqueInterface("mpr");
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

    private static void NoIpv6(NetNamespace ns) =>
        ns.Exec("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1");

    /// <summary>Turns IPv6 on in the outside, the tenants' namespaces (for interfaces made from now on) and on the
    /// ports, without duplicate address detection (addresses usable at once, no waiting), for tests of IPv6 tenants.</summary>
    public void EnableIpv6()
    {
        foreach (var ns in Tenants.Prepend(Outside))
            ns.Exec("sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0",
                "net.ipv6.conf.all.disable_ipv6=0", "net.ipv6.conf.default.disable_ipv6=0");
        foreach (var port in Ports)
            Shell.Check("sysctl", "-qw", $"net.ipv6.conf.{port}.accept_dad=0", $"net.ipv6.conf.{port}.disable_ipv6=0");
    }

    /// <summary>Gives outside end i and the board's port i IPv6 addresses (<see cref="EnableIpv6"/> first).</summary>
    public void AddAddresses6(int port)
    {
        Outside.Exec("ip", "addr", "add", OutsideAddress6(port) + "/64", "dev", OutsideInterface(port), "nodad");
        Shell.Check("ip", "addr", "add", PortAddress6(port) + "/64", "dev", Ports[port], "nodad");
    }

    /// <summary>Gives outside end i and the board's port i addresses (for real clients and management traffic).</summary>
    public void AddAddresses(int port)
    {
        Outside.Exec("ip", "addr", "add", OutsideAddress(port) + "/24", "dev", OutsideInterface(port));
        Shell.Check("ip", "addr", "add", PortAddress(port) + "/24", "dev", Ports[port]);
    }

    public PortConfig Port(int i, UnclaimedPolicy unclaimed = UnclaimedPolicy.Kernel) => new() { Name = Ports[i], Unclaimed = unclaimed };

    public PairConfig Pair(int tenant, int uplink = 0, PairSideConfig? primary = null, PairSideConfig? peer = null,
        bool withAddress = false, int headroom = 0) => new()
    {
        Name = PairNames[tenant],
        Mode = PairMode.L2,
        Uplink = Ports[uplink],
        Headroom = headroom,
        Tenant = new TenantConfig
        {
            Netns = Tenants[tenant].Name,
            Interface = TenantInterface,
            Mac = TenantMac(tenant),
            Addresses = withAddress ? [InterfaceAddress.Parse(TenantAddress(tenant, uplink) + "/24")] : [],
        },
        Primary = primary ?? new PairSideConfig(),
        Peer = peer ?? new PairSideConfig(),
    };

    public static PairSideConfig Side(SidePolicy policy = SidePolicy.Pass, ScrubMode scrub = ScrubMode.Default, params string[] chain) =>
        new() { Policy = policy, Scrub = scrub, Chain = chain.Select(c => new ChainEntry { Program = c }).ToArray() };

    public static ProgramConfig Probe(string name, char which) =>
        new() { Name = name, Object = "probe.bpf.o", Section = $"tc/probe_{which}" };

    /// <param name="workers">The config's `workers` (null: every online core, as on a PC).</param>
    /// <param name="beforeStep">Runs before each step a reload applies (RuntimeOptions.BeforeStep): a test's way to break one.</param>
    public ApplianceRuntime Start(IReadOnlyList<PortConfig> ports, IReadOnlyList<PairConfig> pairs, IReadOnlyList<ProgramConfig>? programs = null,
        TimeSpan? learnAgeing = null, int? workers = null, Action<Appliance.Datapath.Runtime.Reconcile.PlanStep>? beforeStep = null)
    {
        var config = new ApplianceConfig
        {
            Board = "test",
            ControlSocket = Path.Combine(Path.GetTempPath(), $"mapp-{Guid.NewGuid():N}.sock"),
            Ports = ports,
            Pairs = pairs,
            Programs = programs ?? [],
            Workers = workers,
        };
        _runtime = ApplianceRuntime.Start(config, new RuntimeOptions
        {
            ConfigDirectory = programs is { Count: > 0 } ? TestObjects.Directory : ".",
            SweepStale = false,
            LearnAgeing = learnAgeing,
            BeforeStep = beforeStep,
        });
        return _runtime;
    }

    /// <summary>Stops the appliance now (idempotent; Dispose also does it).</summary>
    public void Stop()
    {
        _runtime?.Dispose();
        _runtime = null;
    }

    public byte[] OutsideMac(int port) => InterfaceMac(Outside.Name, OutsideInterface(port));

    public static byte[] InterfaceMac(string? netns, string name)
    {
        using var links = new Appliance.Datapath.Links.LinkManager(netns);
        return links.Get(name).Mac!.GetAddressBytes();
    }

    public int TenantIfindex(int tenant)
    {
        using var links = new Appliance.Datapath.Links.LinkManager(Tenants[tenant].Name);
        return links.Get(TenantInterface).Index;
    }

    public void Dispose()
    {
        try { Stop(); }
        finally
        {
            foreach (var p in Ports ?? []) if (p is not null) Shell.Run("ip", "link", "del", p);
            foreach (var pn in PairNames ?? []) if (pn is not null) Shell.Run("ip", "link", "del", pn);
            foreach (var ns in _namespaces) ns.Dispose();
        }
    }
}

/// <summary>Test traffic across a <see cref="MetaBoard"/>: frames from the outside end of a port into a tenant, and
/// from a tenant out of a port (or towards any MAC).</summary>
public static class BoardTraffic
{
    /// <summary>Outside (port <paramref name="port"/>) → tenant <paramref name="tenant"/>'s MAC, received in
    /// <paramref name="receiverTenant"/> (default: the same tenant).</summary>
    public static List<byte[]> ToTenant(this MetaBoard b, int tenant, int port, int count, out List<byte[]> sent, int? receiverTenant = null,
        int timeoutMs = FrameProbe.Timeout) =>
        FrameProbe.Exchange(b.Outside.Name, MetaBoard.OutsideInterface(port), b.Tenants[receiverTenant ?? tenant].Name, MetaBoard.TenantInterface,
            MetaBoard.TenantMac(tenant).GetBytes(), b.OutsideMac(port), count, out sent, timeoutMs: timeoutMs);

    /// <summary>Tenant → the outside end of <paramref name="port"/> (destination: that end's MAC, or <paramref name="dst"/>).</summary>
    public static List<byte[]> FromTenant(this MetaBoard b, int tenant, int port, int count, out List<byte[]> sent, byte[]? dst = null,
        int timeoutMs = FrameProbe.Timeout) =>
        FrameProbe.Exchange(b.Tenants[tenant].Name, MetaBoard.TenantInterface, b.Outside.Name, MetaBoard.OutsideInterface(port),
            dst ?? b.OutsideMac(port), MetaBoard.TenantMac(tenant).GetBytes(), count, out sent, timeoutMs: timeoutMs);
}
