using System.Collections.Concurrent;
using System.Net.NetworkInformation;
using Appliance.Bpf.Jit;
using Appliance.Config;
using Appliance.Datapath.Diagnostics;
using Appliance.Datapath.Engine;
using Appliance.Datapath.Links;
using Appliance.Datapath.Pairs;
using Appliance.Datapath.Xdp;
using Appliance.Datapath.Xsk;
using Appliance.Datapath.Forwarding;
using Appliance.Datapath.Programs;
using Appliance.Datapath.Routing;

namespace Appliance.Datapath.Runtime;

/// <summary>The running appliance built from an <see cref="ApplianceConfig"/>: programs loaded and verified (before
/// the network is touched), ports claimed (AF_XDP + <see cref="ClaimedMacSteering"/>), pairs created
/// (<see cref="PairLinks"/>: the tenant end in its namespace with the configured name, MAC, MTU and addresses, up, TX
/// checksum offload off; the primary end, named after the pair, with XDP + AF_XDP), chains built in config order, the
/// forwarding worker (<see cref="PairFrameHandler"/>), the <see cref="GroupFrameFlooder"/> and a carrier watcher
/// started. An adopted pair (config primaryInterface) uses an existing veth as it is and leaves it in place.
/// <para>It is also the reconciler: <see cref="Plan"/> turns the running config and a new one into ordered small
/// steps (ApplianceRuntime.Reconcile.cs) and <see cref="Apply"/> applies them, undoing what was done when one fails.
/// Ports and pairs join and leave the running forwarding worker between batches; untouched ones keep forwarding.</para>
/// <see cref="Dispose"/> stops everything and deletes what it created (interfaces, namespaces it created, XDP);
/// what a killed run left behind is swept at the next start.</summary>
public sealed partial class ApplianceRuntime : IDisposable
{
    /// <summary>Engine port indices (one per port and pair) are 0..63: the UMEM frame ledger's owner range.</summary>
    public const int MaxEnginePorts = Umem.MaxOwners;
    private const int XdpPacketHeadroom = 256, MaxReservedHeadroom = 256;

    /// <summary>Bytes per UMEM frame: the config's memory.frameSize, else 2048 when the largest frame fits, else 4096.</summary>
    public int FrameSize { get; private set; } = 4096;

    private readonly List<IDisposable> _cleanup = [];
    private readonly List<PortRuntime> _ports = [];
    private readonly List<PairRuntime> _pairs = [];
    private readonly HashSet<int> _indices = [];
    /// <summary>Ports whose RX queues the appliance changed (config `queues`, or widened to the workers), by name: their
    /// channels go back when they are released.</summary>
    private readonly Dictionary<string, PortQueues> _queues = new(StringComparer.Ordinal);
    /// <summary>Ports whose receive VLAN stripping <see cref="KeepVlanTags"/> turned off: put back on release.</summary>
    private readonly HashSet<string> _vlanStrippingOff = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, PairRuntime> _carrierByName = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private readonly RuntimeOptions _options;
    private LinkManager? _links;
    private OwnedLinks? _owned;
    private XskPortSet? _xsk;
    private TopologySource? _source;
    private ForwardingEngine? _engine;
    private PairFrameHandler[] _handlers = [];
    private GroupFrameFlooder? _flooder;
    private LinkWatcher? _ownLinkWatcher;
    private IDisposable? _carrierSubscription;
    private KernelTables? _tables;
    private bool _disposed;

    /// <summary>The config running now (replaced when a reload has been applied).</summary>
    public ApplianceConfig Config { get; private set; }
    public ProgramSet Programs { get; private set; }

    /// <summary>True when programs run as native code from the JIT (config <c>jit</c> at start, no <c>--no-jit</c>, a
    /// machine the JIT supports); programs it could not compile still run in the interpreter (see <see cref="EngineOf"/>).</summary>
    public bool UseJit { get; }
    public RuntimeTopology Topology => _source!.Current;
    public ForwardingEngine Engine => _engine!;

    /// <summary>The one watcher of the appliance's own namespace (thread "link watcher root"): the pairs' carrier, the
    /// engine's deleted interfaces and whoever else subscribes (the host's port carrier). The caller's
    /// (<see cref="RuntimeOptions.LinkWatcher"/>), else the runtime's own, stopped when it is disposed.</summary>
    public LinkWatcher LinkWatcher => _options.LinkWatcher ?? _ownLinkWatcher!;
    /// <summary>Each forwarding worker's decision, worker w's at w (what a capture wraps): one eBPF VM per worker,
    /// running as that worker's CPU.</summary>
    public IReadOnlyList<PairFrameHandler> Handlers => _handlers;
    public GroupFrameFlooder Flooder => _flooder!;
    /// <summary>The board's routes, neighbours and interfaces as the L3 pairs and the routing helpers read them.</summary>
    public KernelTables RoutingTables => _tables!;
    /// <summary>Where a capture sees the broadcast and multicast the group-frame flooder decides (every flooder this runtime makes).</summary>
    public Capture.CaptureTap GroupCapture { get; } = new();
    public DateTime StartedUtc { get; } = DateTime.UtcNow;
    /// <summary>Forwarding workers the config asks for (`workers`, else the board's choice, else every online core;
    /// at most the online cores), fixed at start.</summary>
    public int Workers { get; }
    /// <summary>Bytes reserved in front of every frame (the UMEMs' headroom, fixed at start): the most any pair's
    /// headroom can be, also after a reload.</summary>
    public int FrameHeadroom { get; private set; }

    private ApplianceRuntime(ApplianceConfig config, ProgramSet programs, RuntimeOptions options)
    {
        Config = config;
        Programs = programs;
        _options = options;
        UseJit = config.Jit && !options.NoJit && BpfJit.IsSupported;
        Workers = WorkerSettings.Resolve(config.Workers, config.Board, Environment.ProcessorCount);
    }

    /// <summary>Builds and starts the appliance; on failure everything built so far is torn down again and a
    /// <see cref="RuntimeSetupException"/> (or the platform error) says what failed.</summary>
    public static ApplianceRuntime Start(ApplianceConfig config, RuntimeOptions? options = null)
    {
        options ??= new RuntimeOptions();
        RefuseUnimplemented(config);
        var programs = ProgramSet.Load(config.Programs, options.ConfigDirectory, options.ObjectDirectory);
        Log.Info("runtime", "programs loaded and verified", ("programs", programs.Programs.Count), ("objects", programs.Objects.Count));
        if (options.SweepStale)
            foreach (var line in StaleLinkSweeper.Sweep(log: m => Log.Warn("runtime", m)))
                Log.Info("runtime", "removed stale state of a killed run", ("what", line));
        var rt = new ApplianceRuntime(config, programs, options);
        rt.LogEngines(programs);
        try
        {
            rt.Build();
            return rt;
        }
        catch
        {
            rt.Dispose();
            throw;
        }
    }

    /// <summary>"jit" or "interpreter": the engine that runs <paramref name="program"/>.</summary>
    public string EngineOf(RuntimeProgram program) => program.Program.EngineName(UseJit);

    /// <summary>Logs which engine runs the programs and, under the JIT, every program that falls back to the
    /// interpreter and why (at start and for the programs a reload loads).</summary>
    internal void LogEngines(ProgramSet programs)
    {
        if (ReferenceEquals(programs, Programs))
        {
            string why = !Config.Jit ? "the config sets \"jit\": false" : _options.NoJit ? "--no-jit" : !BpfJit.IsSupported ? "no JIT for this machine" : "-";
            Log.Info("runtime", UseJit ? "programs run as native code (JIT)" : "programs run in the interpreter", ("why", why));
        }
        if (!UseJit) return;
        foreach (var p in programs.Programs)
            if (p.Program.JitUnavailableReason is { } reason)
                Log.Warn("runtime", "program falls back to the interpreter", ("program", p.Name), ("reason", reason));
    }

    private static void RefuseUnimplemented(ApplianceConfig config)
    {
        if (config.Ports.Count + config.Pairs.Count > MaxEnginePorts)
            throw new RuntimeSetupException($"{config.Ports.Count} ports and {config.Pairs.Count} pairs need {config.Ports.Count + config.Pairs.Count} AF_XDP sockets; at most {MaxEnginePorts} run at once");
    }

    private void Build()
    {
        _links = new LinkManager();
        _owned = new OwnedLinks(_links);
        var portLinks = new LinkInfo[Config.Ports.Count];
        var steerings = new List<ClaimedMacSteering>(); // each port's, owned by its PortRuntime once that is made
        try
        {
            for (int i = 0; i < Config.Ports.Count; i++)
            {
                (portLinks[i], var steering) = ClaimPort(Config.Ports[i]);
                steerings.Add(steering);
                _indices.Add(i);
            }
            BuildOn(portLinks, steerings);
        }
        catch
        {
            foreach (var steering in steerings.Skip(_ports.Count)) steering.Dispose();
            throw;
        }
    }

    /// <summary>The rest of <see cref="Build"/> once the ports are claimed: pairs, sockets, the ports' steering, workers.</summary>
    private void BuildOn(LinkInfo[] portLinks, List<ClaimedMacSteering> steerings)
    {
        var pairs = new PairRuntime[Config.Pairs.Count];
        for (int i = 0; i < pairs.Length; i++)
        {
            var pc = Config.Pairs[i];
            int uplink = Config.Ports.Select(p => p.Name).ToList().IndexOf(pc.Uplink);
            if (uplink < 0)
                throw new RuntimeSetupException($"pair '{pc.Name}': uplink '{pc.Uplink}' is not one of the ports ({string.Join(", ", Config.Ports.Select(p => p.Name))})");
            int index = Config.Ports.Count + i;
            _indices.Add(index);
            pairs[i] = pc.PrimaryInterface is null ? CreatePair(index, pc, uplink) : AdoptPair(index, pc, uplink);
            _pairs.Add(pairs[i]);
            Programs.BuildChains(pairs[i]);
        }

        FrameSize = FrameSizeFor(Config);
        FrameHeadroom = ReservedHeadroom(Config);
        CheckFrameRoom(Config, FrameHeadroom);
        var specs = Config.Ports.Select(p => new XskPortSpec(p.Name, AttachSteering: false) { Queues = QueuesFor(p.Name) })
            .Concat(pairs.Select(p => new XskPortSpec(p.PrimaryName) { Queues = QueuesFor(p.PrimaryName) })).ToArray();
        var (frames, ring) = Config.Memory.ForBoard(Config.Board);
        var xskOptions = new XskOptions
        {
            Headroom = (uint)FrameHeadroom, FrameSize = (uint)FrameSize, FillFrames = (uint)frames,
            RxRingSize = (uint)ring, TxRingSize = (uint)ring, CompletionRingSize = (uint)ring,
        };
        Log.Info("runtime", "forwarding workers", ("workers", Workers), ("configured", Config.Workers?.ToString() ?? "default"),
            ("onlineCores", Environment.ProcessorCount), ("cpus", string.Join(",", Enumerable.Range(0, Workers).Select(w => EngineOptions.CpuOf(w)?.ToString() ?? "-"))));
        _xsk = XskPortSet.Open(specs, xskOptions, _options.XdpMode, log: m => Log.Info("xsk", m), workers: Workers);
        Log.Info("runtime", "umem", ("frameSize", FrameSize), ("frames", frames), ("ringSize", ring), ("framesPerPort", xskOptions.FramesPerPort));

        var boardMacs = portLinks.Where(l => l.Mac is not null).Select(l => MacAddress.Read(l.Mac!.GetAddressBytes())).ToList();
        try
        {
            foreach (var pair in pairs) OpenToTenant(pair);
            _tables = new KernelTables();
            Log.Info("runtime", "routing tables read", ("routes", _tables.Routes.Count), ("neighbours", _tables.Neighbours.Count),
                ("boardAddresses", _tables.BoardAddresses.Set.Count));
            _tables.BoardAddressesChanged += TakeBoardAddresses;
            for (int i = 0; i < Config.Ports.Count; i++)
                _ports.Add(ClaimPortSteering(i, Config.Ports[i], portLinks[i], steerings[i], [.. _xsk.Ports.Where(p => p.Index == i)], pairs, boardMacs));
        }
        catch
        {
            _xsk.Dispose();
            _xsk = null;
            throw;
        }
        _source = new TopologySource(new RuntimeTopology([.. _ports], pairs));
        TakeBoardAddresses(_tables.BoardAddresses); // a change before _source was there found no port to tell
        CheckPerCpuMaps(Programs);
        var engineOptions = EngineOptions;
        _handlers = [.. Enumerable.Range(0, Workers).Select(w => new PairFrameHandler(_source, useJit: UseJit, learnAgeing: _options.LearnAgeing,
            fibTables: _tables, worker: w, processorId: ProcessorIdOf(w)))];
        if (_options.LinkWatcher is null) _ownLinkWatcher = new LinkWatcher();
        _engine = new ForwardingEngine(_xsk, w => _handlers[w], engineOptions, LinkWatcher);
        _flooder = new GroupFrameFlooder(_source, UseJit, GroupCapture, _tables);
        WatchCarrier();
        _engine.Start();
        _flooder.Start();
        Log.Info("runtime", "forwarding", ("ports", _ports.Count), ("pairs", pairs.Length));
    }

    /// <summary>The engine's options: the caller's, with worker w pinned to CPU w unless they pin the workers themselves.</summary>
    private EngineOptions EngineOptions => _engineOptions ??= _options.Engine is { Cpus: not null } ? _options.Engine
        : (_options.Engine ?? new EngineOptions()) with { Cpus = PinnedCpus(Workers) };
    private EngineOptions? _engineOptions;

    /// <summary>Sockets (queues) to open on <paramref name="name"/>: one per RX queue it has now (at most 64; a port's
    /// configured `queues` were set on it first, where its driver allows), queue q served by worker q mod workers. With
    /// fewer queues than workers the others hand their frames for it over (ForwardingEngine).</summary>
    private int QueuesFor(string name) => Math.Min(new LinkEthtool(_links!).RxQueueCount(name), XdpSteering.MapEntries);

    /// <summary>Worker w's CPU: the w-th CPU this process may run on (its affinity, `Cpus_allowed_list`: all of them
    /// on the board; a cpuset or systemd's CPUAffinity may leave fewer), 0..N−1 when that cannot be read.</summary>
    private static int[] PinnedCpus(int workers)
    {
        var allowed = new List<int>();
        try
        {
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal));
            foreach (var range in (line?["Cpus_allowed_list:".Length..].Trim() ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                var ends = range.Split('-');
                int from = int.Parse(ends[0]), to = ends.Length > 1 ? int.Parse(ends[1]) : from;
                for (int c = from; c <= to; c++) allowed.Add(c);
            }
        }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException)
        {
            Log.Warn("runtime", "could not read the CPUs this process may use; pinning workers to CPUs 0..N-1", ("error", e.Message));
        }
        return [.. Enumerable.Range(0, workers).Select(w => allowed.Count > 0 ? allowed[w % allowed.Count] : w)];
    }

    /// <summary>The CPU worker w's programs run as (bpf_get_smp_processor_id, their per-CPU map slot): its pinned CPU when
    /// every worker's CPU has a per-CPU slot (CPU ids below the online count: the usual case), else the worker's index,
    /// so no two workers ever share a slot.</summary>
    private uint ProcessorIdOf(int worker)
    {
        var cpus = Enumerable.Range(0, Workers).Select(w => EngineOptions.CpuOf(w)).ToArray();
        bool distinctSlots = cpus.All(c => c is int cpu && cpu < Environment.ProcessorCount) && cpus.Distinct().Count() == cpus.Length;
        return (uint)(distinctSlots ? cpus[worker]!.Value : worker);
    }

    /// <summary>Programs run as their worker's CPU: a per-CPU map needs a slot for every worker's.</summary>
    private void CheckPerCpuMaps(ProgramSet programs)
    {
        int slots = (int)Enumerable.Range(0, Workers).Max(ProcessorIdOf) + 1;
        foreach (var map in programs.Objects.SelectMany(o => o.Maps))
        {
            int have = map switch { Bpf.Maps.PercpuArrayMap a => a.CpuCount, Bpf.Maps.HashTableMap { CpuCount: > 1 } h => h.CpuCount, _ => int.MaxValue };
            if (have < slots)
                throw new RuntimeSetupException($"map {map.Name} has per-CPU slots for {have} CPUs; the {Workers} workers need {slots}");
        }
    }

    /// <summary>The UMEMs' headroom: the pairs' largest (rounded up to 64), and room for later pairs — up to
    /// <see cref="MaxReservedHeadroom"/> bytes when the config's largest frame leaves that much.</summary>
    private static int FrameSizeFor(ApplianceConfig config) =>
        config.Memory.FrameSize ?? (XdpPacketHeadroom + ((config.Pairs.Count == 0 ? 0 : config.Pairs.Max(p => p.Headroom) + 63) & ~63)
            + LargestFrame(config) + LargestTailroom(config) <= 2048 ? 2048 : 4096);

    private static int ReservedHeadroom(ApplianceConfig config)
    {
        int frameSize = FrameSizeFor(config);
        int configured = (config.Pairs.Count == 0 ? 0 : config.Pairs.Max(p => p.Headroom) + 63) & ~63;
        int spare = (frameSize - XdpPacketHeadroom - LargestFrame(config) - LargestTailroom(config)) & ~63;
        return Math.Max(configured, Math.Min(MaxReservedHeadroom, spare));
    }

    private static int LargestFrame(ApplianceConfig config) => (config.Pairs.Count == 0 ? 1500 : config.Pairs.Max(p => p.Tenant.Mtu)) + 18;
    private static int LargestTailroom(ApplianceConfig config) => config.Pairs.Count == 0 ? 0 : config.Pairs.Max(p => p.Tailroom);

    /// <summary>Every UMEM frame holds the kernel's XDP headroom (256), the reserved headroom, the largest frame a
    /// tenant can send (MTU + Ethernet header + one VLAN tag) and the pairs' tailroom; refuse a config that does not fit.</summary>
    private void CheckFrameRoom(ApplianceConfig config, int reserved)
    {
        foreach (var p in config.Pairs)
            if (p.Headroom > reserved)
                throw new RuntimeSetupException($"pair '{p.Name}': headroom {p.Headroom} is more than the {reserved} bytes the running frames were " +
                    "set up with at start; restart the appliance for a larger headroom");
        int needed = XdpPacketHeadroom + reserved + LargestFrame(config) + LargestTailroom(config);
        if (needed > FrameSize)
            throw new RuntimeSetupException($"frames need {needed} bytes (256 XDP headroom + headroom {reserved} + MTU {LargestFrame(config) - 18} + 18 + tailroom {LargestTailroom(config)}) " +
                $"but an AF_XDP frame holds {FrameSize}; lower a tenant's MTU or the pairs' headroom/tailroom");
    }

    /// <summary>A port as the config wants it: MAC, MTU, up, its XDP program attached (<see cref="ClaimedMacSteering"/>;
    /// no socket registered yet, so every frame still goes the kernel's way), then its RX queues — the configured count,
    /// else one per worker — where its driver allows with the program on (<see cref="SetQueues"/>, as a reload's
    /// `queues` change sets them; put back by <see cref="RestoreQueues"/>). A veth with fewer RX queues than its peer
    /// has TX queues takes no XDP program (ENOSPC): its queues are set first then, and the program attached after.
    /// Returns the link as it is then and its steering, which the caller owns (<see cref="ClaimPortSteering"/> fills it).</summary>
    private (LinkInfo Link, ClaimedMacSteering Steering) ClaimPort(PortConfig pc)
    {
        var link = _links!.TryGet(pc.Name) ?? throw new RuntimeSetupException(
            $"port '{pc.Name}' does not exist in this network namespace (check `ip link`; the board profile names the ports)");
        if (pc.Mac is { } mac) _links.SetMac(pc.Name, new PhysicalAddress(mac.GetBytes()));
        if (pc.Mtu is { } mtu) _links.SetMtu(pc.Name, mtu);
        if (!link.IsUp) _links.SetUp(pc.Name, true);
        KeepVlanTags(pc.Name);
        link = _links.Get(pc.Name);
        var steering = ClaimedMacSteering.Create(pc.Name, link.Index, pc.Unclaimed == UnclaimedPolicy.Drop,
            link.Mac is null ? default : MacAddress.Read(link.Mac.GetAddressBytes()));
        try
        {
            bool attached = AttachPortXdp(steering, pc.Name, tooFewQueuesIsFinal: false);
            if (SetQueues(pc.Name, pc.Queues, socketsClosed: false) && attached && link.Kind != "veth")
            {
                // Some drivers refuse every channel change while a native XDP program is on (virtio_net: EINVAL). No
                // socket is registered yet, so the program goes for the change and comes back. A veth's refusal is
                // the kernel's rule for the program (RX queues below its peer's TX queues): the port keeps its count.
                steering.DetachLink();
                SetQueues(pc.Name, pc.Queues, socketsClosed: false);
                attached = AttachPortXdp(steering, pc.Name, tooFewQueuesIsFinal: false);
            }
            if (!attached) AttachPortXdp(steering, pc.Name, tooFewQueuesIsFinal: true);
            return (_links.Get(pc.Name), steering);
        }
        catch
        {
            steering.Dispose();
            RestorePortSettings(pc.Name);
            throw;
        }
    }

    /// <summary>Received frames keep their VLAN tags in their bytes, where the XDP steering, the chains and the tenants'
    /// VLAN checks (an access tenant gets untagged frames only, <see cref="Forwarding.TenantGuard"/>) read them: a NIC
    /// that strips the outer 802.1Q tag into metadata (`rx-vlan-offload`, on by default on most NICs and on veth) hands
    /// XDP and AF_XDP the frame without it, so another VLAN's frames would pass as untagged. Turned off like
    /// `ethtool -K PORT rxvlan off`; put back by <see cref="RestoreVlanStripping"/> when the port is released. A driver
    /// that cannot stop stripping keeps the port working, with a warning that says what it means.</summary>
    private void KeepVlanTags(string port)
    {
        try
        {
            if (new LinkEthtool(_links!).DisableRxVlanStripping(port)) _vlanStrippingOff.Add(port);
        }
        catch (Interop.PlatformException e)
        {
            Log.Warn("runtime", "the port's driver takes VLAN tags off received frames and cannot be told not to: frames tagged on the wire " +
                "reach the chains and the tenants' VLAN checks as if untagged (connect the port to an access port)", ("port", port), ("error", e.Message));
        }
    }

    /// <summary>Turns the port's receive VLAN stripping back on where <see cref="KeepVlanTags"/> turned it off.</summary>
    private void RestoreVlanStripping(string port)
    {
        if (_vlanStrippingOff.Remove(port)) new LinkEthtool(_links!).EnableRxVlanStripping(port);
    }

    /// <summary>Attaches the port's program; false when the kernel refused it for too few RX queues (ENOSPC: a veth with
    /// fewer than its peer has TX queues) unless <paramref name="tooFewQueuesIsFinal"/>, which says so and what to do.</summary>
    private bool AttachPortXdp(ClaimedMacSteering steering, string port, bool tooFewQueuesIsFinal)
    {
        try
        {
            steering.AttachLink(_options.XdpMode);
            return true;
        }
        catch (Interop.PlatformException e) when (e.Errno == Errno.ENOSPC)
        {
            if (!tooFewQueuesIsFinal) return false;
            throw new RuntimeSetupException($"port '{port}': the kernel refused its XDP program ({e.Message}): a veth takes one only with at least " +
                $"as many RX queues as its peer has TX queues (`ethtool -l {port}`; set its `queues` to that, or raise them with `ethtool -L {port} rx N`)");
        }
    }

    /// <summary>Sets the port's RX queues for its config's <c>queues</c> (<see cref="PortQueues"/>), always with its XDP
    /// program attached (at start as on a reload), so the kernel refuses a count the program cannot take — a veth's
    /// below its peer's TX queues — and the port keeps what it has, as from a driver that refuses. The channels it had
    /// before the first change are what <see cref="RestoreQueues"/> puts back.
    /// Returns true when the driver refused the count it was asked for.</summary>
    private bool SetQueues(string port, int? queues, bool socketsClosed)
    {
        bool refused = false;
        if (_queues.TryGetValue(port, out var changed)) changed.Change(Workers, queues);
        else if (PortQueues.Set(new LinkEthtool(_links!), port, Workers, queues, out refused, socketsClosed) is { } set) _queues[port] = set;
        return refused;
    }

    /// <summary>What <see cref="ClaimPort"/> changed on a port the appliance lets go of (its sockets closed first): its
    /// channels, then its receive VLAN stripping, the second also when putting the first back fails.</summary>
    private void RestorePortSettings(string port)
    {
        try { RestoreQueues(port); }
        finally { RestoreVlanStripping(port); }
    }

    /// <summary>Puts back the channels of a port <see cref="ClaimPort"/> changed (its sockets closed first).</summary>
    private void RestoreQueues(string port)
    {
        if (_queues.Remove(port, out var queues)) queues.Restore();
    }

    /// <summary>Makes the pair's veth with <see cref="PairLinks.Provision"/> (the one way to make a pair), then the
    /// tenant's loopback up, its addresses, and no IPv6 on the primary end. The primary end stays down until
    /// <see cref="OpenToTenant"/>. On failure nothing of it is left.</summary>
    private PairRuntime CreatePair(int index, PairConfig pc, int uplink)
    {
        var t = pc.Tenant;
        if (_links!.TryGet(pc.Name) is not null)
            throw new RuntimeSetupException($"pair '{pc.Name}': an interface called {pc.Name} already exists here; " +
                "the primary end takes the pair's name (delete it, or rename the pair)");
        var links = PairLinks.Provision(_owned!, new PairLinkSpec(pc.Name, t.Netns, t.Interface)
        {
            CreateNamespace = true,
            TenantMac = t.Mac is { } mac ? new PhysicalAddress(mac.GetBytes()) : null,
            Mtu = t.Mtu,
            Queues = Workers, // the tenant's flows spread over every worker
            PrimaryUp = false, // up once its sockets are in place (OpenToTenant)
        });
        var pair = new PairRuntime(index, pc, uplink);
        try
        {
            using (var inside = new LinkManager(t.Netns))
            {
                inside.SetUp("lo", true);
                if (pc.Mode == PairMode.L3) inside.SetNoArp(t.Interface, true);
                var addresses = new LinkAddresses(inside);
                foreach (var a in t.Addresses) addresses.Add(t.Interface, a.Address, a.PrefixLength);
                if (pc.Mode == PairMode.L3) AddDefaultRoutes(inside, pc);
            }
            DisableIpv6(pc.Name);
        }
        catch
        {
            DeletePairLinks(pc, links.NamespaceCreated);
            throw;
        }
        pair.TenantIfindex = links.Tenant.Index;
        pair.TenantMac = MacAddress.Read(links.Tenant.Mac!.GetAddressBytes());
        pair.PrimaryIfindex = links.Primary.Index;
        pair.PrimaryMac = MacAddress.Read(links.Primary.Mac!.GetAddressBytes());
        pair.NamespaceCreated = links.NamespaceCreated;
        Log.Info("runtime", "pair created", ("pair", pc.Name), ("tenant", $"{t.Netns}/{t.Interface}"), ("mac", pair.TenantMac),
            ("uplink", pc.Uplink));
        return pair;
    }

    /// <summary>On the routing-table thread, when the board's own addresses change: every port's steering leaves the
    /// ones inside an L3 tenant's prefix to the kernel. Ports published meanwhile take the newest set in
    /// <see cref="PublishTopology"/>; the version check keeps the newer when the two cross.</summary>
    private void TakeBoardAddresses(BoardAddresses addresses)
    {
        if (_source?.Current is not { } topology) return;
        foreach (var port in topology.Ports) port.Steering?.SetBoardAddresses(addresses);
    }

    /// <summary>An L3 tenant's default routes, as netkit L3 sets a pod up: IPv4 and IPv6 (each when the tenant has an
    /// address of the family) straight out of its NOARP interface.</summary>
    private static void AddDefaultRoutes(LinkManager inside, PairConfig pc)
    {
        var routes = new LinkRoutes(inside);
        foreach (var family in (Bpf.Routing.IpFamily[])[Bpf.Routing.IpFamily.Inet, Bpf.Routing.IpFamily.Inet6])
            if (LinkRoutes.HasFamily(pc.Tenant.Addresses, family)) routes.AddDefault(pc.Tenant.Interface, family);
    }

    /// <summary>Deletes what <see cref="CreatePair"/> made: the veth (both ends) and the namespace when it was
    /// created for this pair and no other running pair lives there.</summary>
    private void DeletePairLinks(PairConfig pc, bool namespaceCreated)
    {
        if (pc.PrimaryInterface is not null) return;
        _owned!.DeleteLink(pc.Name);
        if (namespaceCreated && !_pairs.Any(p => p.Config.Tenant.Netns == pc.Tenant.Netns && p.Config.Name != pc.Name))
            _owned.DeleteNamespace(pc.Tenant.Netns);
    }

    /// <summary>Takes over an existing veth (config primaryInterface): the primary end by its name here, the tenant's
    /// end as it is in its namespace (its ifindex and MAC for classification). Nothing is created, moved,
    /// re-addressed or deleted; only a primary end that is down is set up, once its sockets are in place
    /// (<see cref="OpenToTenant"/>).</summary>
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
        pair.PrimaryIfindex = primary.Index; // brought up (when it is down) once its sockets are in place: OpenToTenant
        pair.PrimaryMac = MacAddress.Read(primary.Mac!.GetAddressBytes());
        Log.Info("runtime", "pair adopted", ("pair", pc.Name), ("primary", name), ("tenant", $"{t.Netns}/{t.Interface}"),
            ("mac", pair.TenantMac), ("uplink", pc.Uplink));
        return pair;
    }

    /// <summary>Brings a pair's primary end up once its AF_XDP sockets are in place, so every frame its tenant sends
    /// meets the datapath: before, a created end is down and the veth forwards nothing (an end up without its sockets
    /// handed the tenant's frames to the board's own stack — a tenant ARPing for the board's address while the appliance
    /// started got thousands of answers). An adopted end the operator brought up earlier is up already.</summary>
    private void OpenToTenant(PairRuntime pair) => _links!.SetUp(pair.PrimaryName, true);

    /// <summary>Takes a created pair's primary end down before its sockets close (the pair is deleted, or the appliance
    /// stops), for the same reason: meanwhile the veth forwards nothing to the board's stack.</summary>
    private void CloseToTenant(PairRuntime pair)
    {
        if (pair.Config.PrimaryInterface is null) _links!.SetUp(pair.PrimaryName, false);
    }

    /// <summary>The primary end belongs to the datapath: no router solicitations or DAD from the board's stack into the tenant.</summary>
    private static void DisableIpv6(string name)
    {
        var path = $"/proc/sys/net/ipv6/conf/{name}/disable_ipv6";
        try { if (File.Exists(path)) File.WriteAllText(path, "1"); }
        catch (IOException e) { Log.Warn("runtime", "could not disable IPv6 on the primary end", ("if", name), ("error", e.Message)); }
    }

    private static PairSideConfig SideConfig(PairConfig pc, PairSideKind kind) => kind == PairSideKind.Primary ? pc.Primary : pc.Peer;

    /// <summary>The port's only XDP program, attached by <see cref="ClaimPort"/>: its sockets registered (one per queue),
    /// its pairs' MACs claimed, its L3 prefixes and the board's addresses set; the port's runtime. On failure the
    /// caller disposes <paramref name="steering"/>.</summary>
    private PortRuntime ClaimPortSteering(int index, PortConfig pc, LinkInfo link, ClaimedMacSteering steering, IReadOnlyList<XskPort> sockets,
        IReadOnlyList<PairRuntime> pairs, IEnumerable<MacAddress> boardMacs)
    {
        var mac = link.Mac is null ? default : MacAddress.Read(link.Mac.GetAddressBytes());
        foreach (var socket in sockets) steering.Register(socket.Queue, socket.Fd); // one per queue: rx_queue_index picks it
        var l2 = pairs.Where(p => p.UplinkPort == index && p.Config.Mode == PairMode.L2).ToArray();
        foreach (var p in l2) steering.Claim(p.TenantMac);
        var l3 = PortRuntime.BuildL3Prefixes(index, pairs);
        steering.SetBoardAddresses(_tables!.BoardAddresses);
        steering.SetL3Prefixes(l3.Entries().Select(e => (e.Family, e.Prefix, e.Length)));
        Log.Info("runtime", "port claimed", ("port", pc.Name), ("xdp", steering.Mode.ToString().ToLowerInvariant()), ("pairs", l2.Length),
            ("unclaimed", pc.Unclaimed.ToString().ToLowerInvariant()));
        var indices = l2.Select(p => p.Index).ToArray();
        var classifier = PortRuntime.BuildClassifier(index, pairs, boardMacs.Append(mac));
        return new PortRuntime(index, pc, link.Index, mac, indices, classifier) { Steering = steering, Sockets = sockets, L3Prefixes = l3 };
    }

    private void WatchCarrier()
    {
        foreach (var p in _pairs) _carrierByName[p.PrimaryName] = p;
        _carrierSubscription = LinkWatcher.Subscribe(e =>
        {
            if (!_carrierByName.TryGetValue(e.Link.Name, out var pair)) return;
            bool up = e.Kind != LinkEventKind.Deleted && e.Link.Carrier && e.Link.IsUp;
            if (up == pair.CarrierUp) return;
            pair.CarrierUp = up;
            Log.Info("runtime", up ? "pair carrier up" : "pair carrier down", ("pair", pair.Name));
        });
        foreach (var p in _pairs) ReadCarrier(p);
    }

    private void ReadCarrier(PairRuntime pair)
    {
        var link = _links!.Get(pair.PrimaryName);
        pair.CarrierUp = link.Carrier && link.IsUp;
    }

    /// <summary>Publishes the current ports and pairs as the new <see cref="RuntimeTopology"/>, on the forwarding
    /// worker between two batches: <paramref name="mutate"/> runs there first (a pair's uplink, policy, scrub), each
    /// port's classifier is rebuilt for its pairs (learned MACs of pairs that stay are kept, and so are the addresses
    /// they claimed) and its steering claims
    /// and releases MACs to match. A flooder listening on the wrong ports is replaced afterwards.</summary>
    private void PublishTopology(Action? mutate = null)
    {
        void Swap()
        {
            mutate?.Invoke();
            var old = _source!.Current;
            var next = new RuntimeTopology([.. _ports], [.. _pairs]);
            var boardMacs = next.Ports.Select(p => p.Mac).ToList();
            foreach (var port in next.Ports)
            {
                var released = new List<MacAddress>();
                bool Stays(int i) => i < old.EnginePortCount && old.PairByEnginePort[i] is { } o && i < next.EnginePortCount
                    && ReferenceEquals(next.PairByEnginePort[i], o) && o.UplinkPort == port.Index;
                port.Classifier = PortRuntime.BuildClassifier(port.Index, next.Pairs, boardMacs, port.Classifier, Stays, released);
                port.ClaimedAddresses.Forget(i => !Stays(i));
                port.L2Pairs = [.. port.Classifier.FloodTargets];
                port.L3Prefixes = PortRuntime.BuildL3Prefixes(port.Index, next.Pairs);
                port.Steering?.SetL3Prefixes(port.L3Prefixes.Entries().Select(e => (e.Family, e.Prefix, e.Length)));
                if (_tables is not null) port.Steering?.SetBoardAddresses(_tables.BoardAddresses);
                foreach (var mac in released) port.Steering?.Release(mac);
                foreach (var pair in next.Pairs)
                    if (pair.UplinkPort == port.Index && pair.Config.Mode == PairMode.L2 && !pair.TenantMac.IsZero) port.Steering?.Claim(pair.TenantMac);
            }
            _source.Current = next;
        }
        if (_engine is null) Swap();
        else _engine.RunBetweenBatches(Swap);
        RefreshFlooder();
    }

    private void RefreshFlooder()
    {
        if (_flooder is null) return;
        var want = Topology.Ports.Where(p => p.L2Pairs.Length > 0).Select(p => p.Name);
        if (want.SequenceEqual(_flooder.ListensOn)) return;
        _flooder.Dispose();
        _flooder = null;
        _flooder = new GroupFrameFlooder(_source!, UseJit, GroupCapture, _tables);
        _flooder.Start();
    }

    private int FreeIndex()
    {
        for (int i = 0; i < MaxEnginePorts; i++)
            if (!_indices.Contains(i)) return i;
        throw new RuntimeSetupException($"all {MaxEnginePorts} AF_XDP sockets are in use (ports + pairs); remove a pair first");
    }

    /// <summary>Finds a pair by name (control socket).</summary>
    public PairRuntime FindPair(string name) =>
        Topology.Pairs.FirstOrDefault(p => p.Name == name)
        ?? throw new KeyNotFoundException($"no pair called {PrintableText.Quote(name)} (pairs: {string.Join(", ", Topology.Pairs.Select(p => p.Name))})");

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
        foreach (var p in _pairs) Try(() => CloseToTenant(p));
        Try(() => _engine?.Stop());
        Try(() => _flooder?.Dispose());
        Try(() => _carrierSubscription?.Dispose());
        Try(() => _engine?.Dispose());
        Try(() => _ownLinkWatcher?.Dispose()); // after the engine and the carrier left it: its thread and socket go
        if (_engine is null) Try(() => _xsk?.Dispose());
        foreach (var h in _handlers) Try(h.Dispose);
        Try(() => _tables?.Dispose());
        foreach (var p in _ports) Try(() => p.Steering?.Dispose());
        foreach (var name in _queues.Keys.Union(_vlanStrippingOff).ToList()) Try(() => RestorePortSettings(name));
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
