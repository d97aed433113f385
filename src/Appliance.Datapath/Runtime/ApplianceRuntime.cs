using System.Net.NetworkInformation;
using Appliance.Config;
using Appliance.Datapath.Diagnostics;
using Appliance.Datapath.Engine;
using Appliance.Datapath.Links;
using Appliance.Datapath.Pairs;
using Appliance.Datapath.Xdp;
using Appliance.Datapath.Xsk;

namespace Appliance.Datapath.Runtime;

/// <summary>The running appliance built from an <see cref="ApplianceConfig"/>: programs loaded and verified (before
/// the network is touched), ports claimed (AF_XDP + <see cref="ClaimedMacSteering"/>), pairs created (veth: the
/// tenant end in its namespace with the configured name, MAC, MTU and addresses, up, TX checksum offload off; the
/// primary end, named after the pair, with XDP + AF_XDP), chains built in config order, the forwarding worker
/// (<see cref="PairFrameHandler"/>), the <see cref="GroupFrameFlooder"/> and a carrier watcher started.
/// An adopted pair (config primaryInterface) uses an existing veth as it is and leaves it in place.
/// <see cref="Dispose"/> stops everything and deletes what it created (interfaces, namespaces it created, XDP);
/// what a killed run left behind is swept at the next start.</summary>
public sealed class ApplianceRuntime : IDisposable
{
    private readonly List<IDisposable> _cleanup = [];
    private LinkManager? _links;
    private OwnedLinks? _owned;
    private ForwardingEngine? _engine;
    private PairFrameHandler? _handler;
    private GroupFrameFlooder? _flooder;
    private LinkWatcher? _watcher;
    private bool _disposed;

    public ApplianceConfig Config { get; }
    public ProgramSet Programs { get; }
    public RuntimeTopology Topology { get; private set; } = null!;
    public ForwardingEngine Engine => _engine!;
    public GroupFrameFlooder Flooder => _flooder!;
    public DateTime StartedUtc { get; } = DateTime.UtcNow;

    private ApplianceRuntime(ApplianceConfig config, ProgramSet programs)
    {
        Config = config;
        Programs = programs;
    }

    /// <summary>Builds and starts the appliance; on failure everything built so far is torn down again and a
    /// <see cref="RuntimeSetupException"/> (or the platform error) says what failed.</summary>
    public static ApplianceRuntime Start(ApplianceConfig config, RuntimeOptions? options = null)
    {
        options ??= new RuntimeOptions();
        foreach (var p in config.Pairs)
            if (p.Mode != PairMode.L2)
                throw new RuntimeSetupException($"pair '{p.Name}': mode {p.Mode} is not implemented yet; only l2 pairs run (set \"mode\": \"l2\")");
        var programs = ProgramSet.Load(config.Programs, options.ConfigDirectory, options.ObjectDirectory);
        Log.Info("runtime", "programs loaded and verified", ("programs", programs.Programs.Count), ("objects", programs.Objects.Count));
        if (options.SweepStale)
            foreach (var line in StaleLinkSweeper.Sweep(log: m => Log.Warn("runtime", m)))
                Log.Info("runtime", "removed stale state of a killed run", ("what", line));
        var rt = new ApplianceRuntime(config, programs);
        try
        {
            rt.Build(options);
            return rt;
        }
        catch
        {
            rt.Dispose();
            throw;
        }
    }

    private void Build(RuntimeOptions options)
    {
        _links = new LinkManager();
        _owned = new OwnedLinks(_links);
        var portIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        var portLinks = new LinkInfo[Config.Ports.Count];
        for (int i = 0; i < Config.Ports.Count; i++)
        {
            portLinks[i] = ClaimPort(Config.Ports[i]);
            portIndex[Config.Ports[i].Name] = i;
        }

        var pairs = new PairRuntime[Config.Pairs.Count];
        for (int i = 0; i < pairs.Length; i++)
        {
            var pc = Config.Pairs[i];
            if (!portIndex.TryGetValue(pc.Uplink, out int uplink))
                throw new RuntimeSetupException($"pair '{pc.Name}': uplink '{pc.Uplink}' is not one of the ports ({string.Join(", ", portIndex.Keys)})");
            pairs[i] = pc.PrimaryInterface is null ? CreatePair(i, pc, uplink) : AdoptPair(i, pc, uplink);
            pairs[i].PrimaryPort = Config.Ports.Count + i;
            Programs.BuildChains(pairs[i]);
        }

        int headroom = Config.Pairs.Count == 0 ? 0 : Config.Pairs.Max(p => p.Headroom);
        CheckFrameRoom(headroom);
        var specs = Config.Ports.Select(p => new XskPortSpec(p.Name, AttachSteering: false))
            .Concat(pairs.Select(p => new XskPortSpec(p.PrimaryName))).ToArray();
        var xsk = XskPortSet.Open(specs, new XskOptions { Headroom = (uint)((headroom + 63) & ~63) }, options.XdpMode,
            log: m => Log.Info("xsk", m));

        var ports = new PortRuntime[Config.Ports.Count];
        var boardMacs = portLinks.Where(l => l.Mac is not null).Select(l => MacAddress.Read(l.Mac!.GetAddressBytes())).ToList();
        try
        {
            for (int i = 0; i < ports.Length; i++) ports[i] = ClaimPortSteering(i, portLinks[i], pairs, xsk, options.XdpMode, boardMacs);
        }
        catch
        {
            xsk.Dispose();
            throw;
        }
        Topology = new RuntimeTopology(ports, pairs);
        _handler = new PairFrameHandler(Topology, learnAgeing: options.LearnAgeing);
        _engine = new ForwardingEngine(xsk, _handler, options.Engine ?? new EngineOptions { Log = m => Log.Warn("engine", m) });
        _flooder = new GroupFrameFlooder(Topology);
        WatchCarrier(pairs);
        _engine.Start();
        _flooder.Start();
        Log.Info("runtime", "forwarding", ("ports", ports.Length), ("pairs", pairs.Length));
    }

    /// <summary>Every UMEM frame holds the kernel's XDP headroom (256), the pairs' headroom, the largest frame a
    /// tenant can send (MTU + Ethernet header + one VLAN tag) and the pairs' tailroom; refuse a config that does not fit.</summary>
    private void CheckFrameRoom(int headroom)
    {
        const int XdpPacketHeadroom = 256, FrameSize = 4096;
        int mtu = Config.Pairs.Count == 0 ? 1500 : Config.Pairs.Max(p => p.Tenant.Mtu);
        int tailroom = Config.Pairs.Count == 0 ? 0 : Config.Pairs.Max(p => p.Tailroom);
        int needed = XdpPacketHeadroom + ((headroom + 63) & ~63) + mtu + 18 + tailroom;
        if (needed > FrameSize)
            throw new RuntimeSetupException($"frames need {needed} bytes (256 XDP headroom + headroom {headroom} + MTU {mtu} + 18 + tailroom {tailroom}) " +
                $"but an AF_XDP frame holds {FrameSize}; lower a tenant's MTU or the pairs' headroom/tailroom");
    }

    private LinkInfo ClaimPort(PortConfig pc)
    {
        var link = _links!.TryGet(pc.Name) ?? throw new RuntimeSetupException(
            $"port '{pc.Name}' does not exist in this network namespace (check `ip link`; the board profile names the ports)");
        if (pc.Mac is { } mac) _links.SetMac(pc.Name, new PhysicalAddress(mac.GetBytes()));
        if (pc.Mtu is { } mtu) _links.SetMtu(pc.Name, mtu);
        if (!link.IsUp) _links.SetUp(pc.Name, true);
        return _links.Get(pc.Name);
    }

    private PairRuntime CreatePair(int index, PairConfig pc, int uplink)
    {
        var t = pc.Tenant;
        if (_links!.TryGet(pc.Name) is not null)
            throw new RuntimeSetupException($"pair '{pc.Name}': an interface called {pc.Name} already exists here; " +
                "the primary end takes the pair's name (delete it, or rename the pair)");
        if (NetworkNamespace.Exists(t.Netns)) _owned!.WatchNamespace(t.Netns);
        else _owned!.CreateNamespace(t.Netns);
        _owned.CreateVethPair(pc.Name, t.Interface, t.Netns, t.Mtu);
        var pair = new PairRuntime(index, pc, uplink);
        using (var inside = new LinkManager(t.Netns))
        {
            if (t.Mac is { } mac) inside.SetMac(t.Interface, new PhysicalAddress(mac.GetBytes()));
            new LinkEthtool(inside).DisableTxChecksum(t.Interface);
            inside.SetUp("lo", true);
            inside.SetUp(t.Interface, true);
            var addresses = new LinkAddresses(inside);
            foreach (var a in t.Addresses) addresses.Add(t.Interface, a.Address, a.PrefixLength);
            var tenant = inside.Get(t.Interface);
            pair.TenantIfindex = tenant.Index;
            pair.TenantMac = MacAddress.Read(tenant.Mac!.GetAddressBytes());
        }
        DisableIpv6(pc.Name);
        _links.SetUp(pc.Name, true);
        var primary = _links.Get(pc.Name);
        pair.PrimaryIfindex = primary.Index;
        pair.PrimaryMac = MacAddress.Read(primary.Mac!.GetAddressBytes());
        Log.Info("runtime", "pair created", ("pair", pc.Name), ("tenant", $"{t.Netns}/{t.Interface}"), ("mac", pair.TenantMac),
            ("uplink", pc.Uplink));
        return pair;
    }

    /// <summary>Takes over an existing veth (config primaryInterface): the primary end by its name here, the tenant's
    /// end as it is in its namespace (its ifindex and MAC for classification). Nothing is created, moved,
    /// re-addressed or deleted; only a primary end that is down is set up (XDP needs it up).</summary>
    private PairRuntime AdoptPair(int index, PairConfig pc, int uplink)
    {
        var t = pc.Tenant;
        string name = pc.PrimaryInterface!;
        var primary = _links!.TryGet(name) ?? throw new RuntimeSetupException(
            $"pair '{pc.Name}': primaryInterface '{name}' does not exist in this network namespace (check `ip link`; an adopted veth must exist before the appliance starts)");
        if (!NetworkNamespace.Exists(t.Netns))
            throw new RuntimeSetupException($"pair '{pc.Name}': tenant namespace '{t.Netns}' does not exist (an adopted pair's tenant must already be there; check `ip netns`)");
        var pair = new PairRuntime(index, pc, uplink);
        using (var inside = new LinkManager(t.Netns))
        {
            var tenant = inside.TryGet(t.Interface) ?? throw new RuntimeSetupException(
                $"pair '{pc.Name}': tenant interface '{t.Interface}' does not exist in namespace '{t.Netns}' (it must be the veth peer of '{name}')");
            if (tenant.Mac is null)
                throw new RuntimeSetupException($"pair '{pc.Name}': tenant interface '{t.Netns}/{t.Interface}' has no MAC address; an l2 pair needs an Ethernet veth");
            pair.TenantIfindex = tenant.Index;
            pair.TenantMac = MacAddress.Read(tenant.Mac.GetAddressBytes());
        }
        if (!primary.IsUp)
        {
            _links.SetUp(name, true);
            primary = _links.Get(name);
        }
        pair.PrimaryIfindex = primary.Index;
        pair.PrimaryMac = MacAddress.Read(primary.Mac!.GetAddressBytes());
        Log.Info("runtime", "pair adopted", ("pair", pc.Name), ("primary", name), ("tenant", $"{t.Netns}/{t.Interface}"),
            ("mac", pair.TenantMac), ("uplink", pc.Uplink));
        return pair;
    }

    /// <summary>The primary end belongs to the datapath: no router solicitations or DAD from the board's stack into the tenant.</summary>
    private static void DisableIpv6(string name)
    {
        var path = $"/proc/sys/net/ipv6/conf/{name}/disable_ipv6";
        try { if (File.Exists(path)) File.WriteAllText(path, "1"); }
        catch (IOException e) { Log.Warn("runtime", "could not disable IPv6 on the primary end", ("if", name), ("error", e.Message)); }
    }

    /// <summary>The port's only XDP program: claimed MACs and the socket registered before it attaches, so group and
    /// unclaimed frames never reach AF_XDP.</summary>
    private PortRuntime ClaimPortSteering(int i, LinkInfo link, PairRuntime[] pairs, XskPortSet xsk, XdpModePreference xdpMode,
        IReadOnlyList<MacAddress> boardMacs)
    {
        var pc = Config.Ports[i];
        var socket = xsk.Ports[i];
        var steering = ClaimedMacSteering.Create(pc.Name, link.Index, pc.Unclaimed == UnclaimedPolicy.Drop);
        _cleanup.Add(steering);
        steering.Register(socket.Queue, socket.Socket.Fd);
        var l2 = pairs.Where(p => p.UplinkPort == i && p.Config.Mode == PairMode.L2).Select(p => p.Index).ToArray();
        var configured = new Dictionary<int, MacAddress>();
        foreach (int p in l2)
        {
            configured[p] = pairs[p].TenantMac;
            steering.Claim(pairs[p].TenantMac);
        }
        steering.AttachLink(xdpMode);
        var mode = steering.Mode;
        var mac = link.Mac is null ? default : MacAddress.Read(link.Mac.GetAddressBytes());
        Log.Info("runtime", "port claimed", ("port", pc.Name), ("xdp", mode.ToString().ToLowerInvariant()), ("pairs", l2.Length),
            ("unclaimed", pc.Unclaimed.ToString().ToLowerInvariant()));
        return new PortRuntime(i, pc, link.Index, mac, l2, PortRuntime.BuildClassifier(l2, pairs, configured, boardMacs)) { Steering = steering };
    }

    private void WatchCarrier(PairRuntime[] pairs)
    {
        var byName = pairs.ToDictionary(p => p.PrimaryName, StringComparer.Ordinal);
        _watcher = new LinkWatcher(e =>
        {
            if (!byName.TryGetValue(e.Link.Name, out var pair)) return;
            bool up = e.Kind != LinkEventKind.Deleted && e.Link.Carrier && e.Link.IsUp;
            if (up == pair.CarrierUp) return;
            pair.CarrierUp = up;
            Log.Info("runtime", up ? "pair carrier up" : "pair carrier down", ("pair", pair.Name));
        }, names: byName.Keys);
        foreach (var p in pairs)
        {
            var link = _links!.Get(p.PrimaryName);
            p.CarrierUp = link.Carrier && link.IsUp;
        }
    }

    /// <summary>Finds a pair by name (control socket).</summary>
    public PairRuntime FindPair(string name) =>
        Topology.Pairs.FirstOrDefault(p => p.Name == name)
        ?? throw new KeyNotFoundException($"no pair called '{name}' (pairs: {string.Join(", ", Topology.Pairs.Select(p => p.Name))})");

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        var failures = new List<Exception>();
        void Try(Action a)
        {
            try { a(); }
            catch (Exception e) { failures.Add(e); }
        }
        Try(() => _engine?.Stop());
        Try(() => _flooder?.Dispose());
        Try(() => _watcher?.Dispose());
        Try(() => _engine?.Dispose());
        Try(() => _handler?.Dispose());
        foreach (var d in _cleanup) Try(d.Dispose);
        Try(() => _owned?.Dispose());
        Try(() => _links?.Dispose());
        if (failures.Count > 0)
        {
            foreach (var f in failures) Log.Error("runtime", "cleanup step failed", ("error", f.Message));
        }
        else Log.Info("runtime", "stopped; everything the appliance created is deleted");
    }
}
