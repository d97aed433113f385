using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using Appliance.Config;
using Appliance.Datapath.Programs;
using Xunit;

namespace Appliance.Datapath.Tests.Runtime;

/// <summary>One side of a pair in the walk's universe: its policy, scrub and chain (program names).</summary>
public sealed record WalkSide(SidePolicy Policy, ScrubMode Scrub, ImmutableList<string> Chain)
{
    public static readonly WalkSide Default = new(SidePolicy.Pass, ScrubMode.Default, []);
}

/// <summary>A pair of the walk's universe: slot s is <see cref="MetaBoard"/> tenant s (its pair name, its namespace,
/// interface eth0); the rest is what a config can say about it.</summary>
/// <param name="Uplink">The uplink's port slot.</param>
/// <param name="AltMac">An L2 tenant's MAC is <see cref="MetaBoard.TenantMac"/> or, when set, another one (a change re-creates the pair).</param>
/// <param name="Addresses">Which of six addresses the tenant has (bit i: <see cref="WalkConfig.AddressOf"/> i, its prefix
/// length <see cref="WalkConfig.PrefixOf"/>): bits 0-2 IPv4, 3-5 IPv6 alike. The first and the third of a family share
/// the uplink's subnet (an L2 tenant's third is a secondary address of it), the second is a subnet of the slot's own.
/// An L3 pair has the first of at least one family (<see cref="WalkConfig.L3Reachable"/>), which follows its uplink,
/// so the outside of that port reaches it.</param>
/// <param name="Adopted">Slot <see cref="WalkConfig.AdoptableSlot"/> only: the pair adopts the veth the test made
/// (<see cref="WalkConfig.AdoptedPrimary"/>, its peer <see cref="WalkConfig.AdoptedInterface"/> in the slot's
/// namespace, MAC <see cref="WalkConfig.AdoptedMac"/>) instead of creating one. L2: no addresses. L3: its addresses are
/// the prefixes routed to it; the test, as the veth's owner, sets them on the tenant's end (NOARP, default routes).</param>
/// <param name="Tailroom">The pair's tailroom (may not fit the running frames: a reload refuses it then).</param>
/// <param name="ServesDhcp">L2 only: <c>serves</c> lists "dhcp" (after "router" when both).</param>
/// <param name="ServesVlans">L2 only: <c>serves</c> lists "vlans" (last).</param>
/// <param name="AltInterface">The tenant's interface is "eth2", not eth0 (a change re-creates the pair; not when adopted).</param>
/// <param name="OwnNetns">The tenant lives in a namespace of its own the appliance creates (<see cref="WalkConfig.NetnsOf"/>;
/// it deletes it with the pair), not the board's (a change re-creates the pair; not when adopted).</param>
public sealed record WalkPair(int Slot, PairMode Mode, int Uplink, bool AltMac, int Mtu, int LearnLimit, int Headroom, bool ServesRouter,
    int Addresses, WalkSide Primary, WalkSide Peer, bool Adopted = false, int Tailroom = 0, bool ServesDhcp = false, bool AltInterface = false,
    bool OwnNetns = false, bool ServesVlans = false);

/// <summary>Settings a running appliance keeps until its next start: `workers` 1 (the walk runs one per core),
/// `memory.frames` 128, `jit` false, another `controlSocket`.</summary>
public enum RestartOnly { None, Workers, Frames, Jit, ControlSocket }

/// <summary>A port of the walk's universe: slot s is <see cref="MetaBoard"/> port s.</summary>
/// <param name="Mac">0: no <c>mac</c> (the interface keeps its own); 1 or 2: one of two MACs (<see cref="WalkConfig.PortMacOf"/>).
/// Once set it is never left out again: the interface keeps the last one set, where a start would find its own.</param>
/// <param name="Mtu">0: no <c>mtu</c>; else the MTU set on the port (once set, never left out again, as <paramref name="Mac"/>).</param>
/// <param name="Queues">0: no <c>queues</c> (one per worker where the veth allows); else that many RX queues.</param>
public sealed record WalkPort(int Slot, UnclaimedPolicy Unclaimed, int Mac = 0, int Mtu = 0, int Queues = 0);

/// <summary>A config of the random edit walk's small universe (<see cref="LiveEditWalkTests"/>): up to
/// <see cref="PortSlots"/> ports and <see cref="PairSlots"/> pairs (L2 and L3) of one <see cref="MetaBoard"/>, and the
/// example programs (programs/*.bpf.c) under fixed names, some with variants of their config (initial map contents,
/// a read-only global, the object a name stands for). <see cref="Render"/> writes it as the appliance reads it.</summary>
/// <param name="AclDrops">lpm_acl's .rodata default_verdict is DROP (absent: PASS): a new object, verified again.</param>
/// <param name="AllowDropsNonL4">allow_port's .rodata pass_non_l4 is 0: frames without TCP/UDP are dropped.</param>
/// <param name="AllowPorts">allow_port's allowed_ports lists 80 and 443 (live map contents).</param>
/// <param name="AclEntries">lpm_acl's acl_v4 lists 10.99.0.0/24 → DROP (live map contents; no test frame's source).</param>
/// <param name="SwapIsRewrite">Program "swap" is rewrite.bpf.o (else counter.bpf.o, whose maps it then shares with "count").</param>
/// <param name="Restart">A setting read at start (README: a reload notes that it changes at the next start) set to
/// another value than the walk runs with; the walk applies it and goes back (<see cref="RestartOnly"/>).</param>
public sealed record WalkConfig(ImmutableList<WalkPort> Ports, ImmutableList<WalkPair> Pairs, bool AclDrops, bool AllowDropsNonL4,
    bool AllowPorts, bool AclEntries, bool SwapIsRewrite, RestartOnly Restart = RestartOnly.None)
{
    public const int PortSlots = 3, PairSlots = 4;

    /// <summary>Programs by name: object, section, and which sides and modes may run it here. fib_forward routes IP
    /// frames with the board's tables, which would send an L3 tenant's own frames back out: L2 chains only.</summary>
    public static readonly ImmutableArray<(string Name, string Object, string Section)> Programs =
    [
        ("count", "counter.bpf.o", "tc"),
        ("nat", "rewrite.bpf.o", "tc"),
        ("route", "redirect_map.bpf.o", "tc"),
        ("deliver", "peer_deliver.bpf.o", "tc"),
        ("fib", "fib_forward.bpf.o", "tc"),
        ("acl", "lpm_acl.bpf.o", "netkit/primary"),
        ("allow", "allow_port.bpf.o", "netkit/peer"),
        ("swap", "counter.bpf.o", "tc"),
    ];

    public static bool MayRun(string program, bool primary, PairMode mode) => program switch
    {
        "acl" => primary,
        "allow" => !primary,
        "fib" => mode == PairMode.L2,
        _ => true,
    };

    public static readonly WalkConfig Empty = new([new WalkPort(0, UnclaimedPolicy.Kernel)], [], false, false, false, false, false);

    /// <summary>Whether a side passes the walk's probe frames (L2: EtherType 0x88B5, no IP; L3: ICMP echo, no TCP/UDP):
    /// with no chain its policy; else the first program that does not say NEXT decides (counter says NEXT, lpm_acl its
    /// default verdict for a source it does not list, allow_port pass_non_l4, the others PASS: their maps name no
    /// probe frame), PASS after the last.</summary>
    public bool Passes(WalkSide side)
    {
        if (side.Chain.Count == 0) return side.Policy == SidePolicy.Pass;
        foreach (var p in side.Chain)
        {
            bool? verdict = p switch
            {
                "count" => null,
                "swap" => SwapIsRewrite ? true : null,
                "acl" => !AclDrops,
                "allow" => !AllowDropsNonL4,
                _ => true,
            };
            if (verdict is { } v) return v;
        }
        return true;
    }

    public static MacAddress MacOf(int slot, bool alt) => alt ? MacAddress.Parse($"02:00:00:00:0c:{slot + 1:x2}") : MetaBoard.TenantMac(slot);

    public const int AdoptableSlot = PairSlots - 1;
    public const string AdoptedInterface = "eth1";
    public static readonly MacAddress AdoptedMac = MacAddress.Parse("02:00:00:00:0d:01");

    /// <summary>The appliance's end of the veth an adopted pair takes over (made by the test before the walk).</summary>
    public static string AdoptedPrimary(MetaBoard board) => "mad" + board.PairNames[AdoptableSlot][3..];

    public static MacAddress? PortMacOf(WalkPort p) => p.Mac == 0 ? null : MacAddress.Parse($"02:00:00:00:{0xe0 + p.Mac:x2}:{p.Slot + 1:x2}");

    public static MacAddress TenantMacOf(WalkPair p) => p.Adopted ? AdoptedMac : MacOf(p.Slot, p.AltMac);

    public static string TenantInterfaceOf(WalkPair p) => p.Adopted ? AdoptedInterface : p.AltInterface ? "eth2" : MetaBoard.TenantInterface;

    /// <summary>The tenant's namespace: the board's for its slot, or one the appliance creates (the board's name + "-n").</summary>
    public static string NetnsOf(MetaBoard board, WalkPair p) => p.OwnNetns ? CreatedNetns(board, p.Slot) : board.Tenants[p.Slot].Name;

    public static string CreatedNetns(MetaBoard board, int slot) => board.Tenants[slot].Name + "-n";

    /// <summary>Every MAC a tenant of the universe may have (what the snapshot asks each port's steering about).</summary>
    public static IEnumerable<MacAddress> UniverseMacs => Enumerable.Range(0, PairSlots).SelectMany(s => new[] { MacOf(s, false), MacOf(s, true) }).Append(AdoptedMac);

    public static string AddressOf(WalkPair p, int i) => i switch
    {
        0 => $"10.{50 + p.Uplink}.0.{10 + p.Slot}",
        1 => $"10.{70 + p.Slot}.0.2",
        2 => $"10.{50 + p.Uplink}.0.{20 + p.Slot}",
        3 => $"fd00:{50 + p.Uplink}::{10 + p.Slot}",
        4 => $"fd00:{70 + p.Slot}::2",
        _ => $"fd00:{50 + p.Uplink}::{20 + p.Slot}",
    };

    /// <summary>Address i's prefix length: L2 the subnet's (/24, /64); L3 a host route (/32, /128), but the slot's own
    /// IPv6 address routes its whole /64 to the tenant.</summary>
    public static int PrefixOf(WalkPair p, int i) => (p.Mode, i) switch
    {
        (PairMode.L2, < 3) => 24,
        (PairMode.L2, _) => 64,
        (_, < 3) => 32,
        (_, 4) => 64,
        _ => 128,
    };

    public const int V4Reachable = 1, V6Reachable = 8;

    /// <summary>An L3 pair's addresses must include one the outside of its port reaches (the first of a family).</summary>
    public static bool L3Reachable(int addresses) => (addresses & (V4Reachable | V6Reachable)) != 0;

    /// <summary>The addresses of <paramref name="p"/> as the config lists them ("ADDRESS/LENGTH").</summary>
    public static IEnumerable<string> AddressesOf(WalkPair p) =>
        Enumerable.Range(0, 6).Where(i => (p.Addresses & 1 << i) != 0).Select(i => $"{AddressOf(p, i)}/{PrefixOf(p, i)}");


    /// <summary>Why a reload must refuse this config on a runtime whose AF_XDP frames are <paramref name="frameSize"/>
    /// bytes with <paramref name="headroom"/> bytes reserved at start (README "Live reload": a pair's headroom may grow
    /// up to what the frames were set up with; a frame holds 256 + headroom + MTU + 18 + tailroom), as the words the
    /// error must say; null when it fits.</summary>
    public string? RefusedLive(int frameSize, int headroom)
    {
        if (Pairs.Any(p => p.Headroom > headroom)) return "restart the appliance for a larger headroom";
        if (Pairs.Count > 0 && 256 + headroom + Pairs.Max(p => p.Mtu) + 18 + Pairs.Max(p => p.Tailroom) > frameSize)
            return "lower a tenant's MTU or the pairs' headroom/tailroom";
        return null;
    }

    /// <summary>The config as the appliance reads it, pair and port order as in the model.</summary>
    public ApplianceConfig Render(MetaBoard board) => new()
    {
        Board = "test",
        ControlSocket = Restart == RestartOnly.ControlSocket ? "/run/mapp-live-edit-walk-other.sock" : "/run/mapp-live-edit-walk-unused.sock",
        Workers = Restart == RestartOnly.Workers ? 1 : null,
        Memory = new MemorySettings { Frames = Restart == RestartOnly.Frames ? 128 : null },
        Jit = Restart != RestartOnly.Jit,
        Ports = [.. Ports.Select(p => new PortConfig { Name = board.Ports[p.Slot], Unclaimed = p.Unclaimed, Mac = PortMacOf(p),
            Mtu = p.Mtu == 0 ? null : p.Mtu, Queues = p.Queues == 0 ? null : p.Queues })],
        Pairs = [.. Pairs.Select(p => new PairConfig
        {
            Name = board.PairNames[p.Slot],
            Mode = p.Mode,
            Uplink = board.Ports[p.Uplink],
            LearnLimit = p.LearnLimit,
            Headroom = p.Headroom,
            Tailroom = p.Tailroom,
            PrimaryInterface = p.Adopted ? AdoptedPrimary(board) : null,
            Tenant = new TenantConfig
            {
                Netns = NetnsOf(board, p),
                Interface = TenantInterfaceOf(p),
                Mac = p.Mode == PairMode.L2 && !p.Adopted ? MacOf(p.Slot, p.AltMac) : null,
                Mtu = p.Mtu,
                Addresses = [.. AddressesOf(p).Select(InterfaceAddress.Parse)],
                Serves = [.. new[] { (p.ServesRouter, TenantService.Router), (p.ServesDhcp, TenantService.Dhcp), (p.ServesVlans, TenantService.Vlans) }.Where(s => s.Item1).Select(s => s.Item2)],
            },
            Primary = Side(p.Primary),
            Peer = Side(p.Peer),
        })],
        Programs = [.. Programs.Select(p => new ProgramConfig
        {
            Name = p.Name,
            Object = p.Name == "swap" && SwapIsRewrite ? "rewrite.bpf.o" : p.Object,
            Section = p.Section,
            Maps = MapsOf(p.Name),
        })],
    };

    private static PairSideConfig Side(WalkSide s) => new()
    {
        Policy = s.Policy,
        Scrub = s.Scrub,
        Chain = [.. s.Chain.Select(c => new ChainEntry { Program = c })],
    };

    private Dictionary<string, IReadOnlyList<MapEntryConfig>> MapsOf(string program)
    {
        var maps = new Dictionary<string, IReadOnlyList<MapEntryConfig>>();
        if (program == "acl" && AclDrops) maps[".rodata"] = [Entry("0", "2")];
        if (program == "acl" && AclEntries) maps["acl_v4"] = [Entry("\"18000000 0a630000\"", "2")];
        if (program == "allow" && AllowDropsNonL4) maps[".rodata"] = [Entry("0", "0")];
        if (program == "allow" && AllowPorts) maps["allowed_ports"] = [Entry("80", "0"), Entry("443", "0")];
        return maps;
    }

    private static MapEntryConfig Entry(string key, string value) => new() { Key = Datum(key), Value = Datum(value) };

    private static MapDatum Datum(string json) => JsonSerializer.Deserialize(json, ConfigJsonContext.Default.MapDatum);

    /// <summary>Writes the config as a file's bytes and reads them back as `reload` does (every check of `validate`, the
    /// program objects loaded and verified): the generator makes only configs the appliance accepts.</summary>
    public ApplianceConfig Validated(MetaBoard board, string objects)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(Render(board), ConfigJsonContext.Default.ApplianceConfig);
        var loaded = ConfigLoader.LoadBytes(bytes, "walk.json", objects, new ConfigLoadOptions { ProgramObjects = ProgramObjectInspector.Instance });
        Assert.True(loaded.IsValid, $"the walk generated a config validate refuses:\n{string.Join("\n", loaded.Errors)}\n{Encoding.UTF8.GetString(bytes)}");
        return loaded.Config!;
    }

    public override string ToString()
    {
        static string S(WalkSide s) => $"{s.Policy.ToString().ToLowerInvariant()}/{s.Scrub.ToString().ToLowerInvariant()}[{string.Join(",", s.Chain)}]";
        var sb = new StringBuilder();
        sb.Append("ports ").AppendJoin(' ', Ports.Select(p => $"p{p.Slot}({p.Unclaimed.ToString().ToLowerInvariant()}{(p.Mac == 0 ? "" : $" mac {p.Mac}")}" +
            $"{(p.Mtu == 0 ? "" : $" mtu {p.Mtu}")}{(p.Queues == 0 ? "" : $" queues {p.Queues}")})"));
        foreach (var p in Pairs)
            sb.Append($"; t{p.Slot} {p.Mode.ToString().ToLowerInvariant()} on p{p.Uplink}{(p.Adopted ? " adopted" : "")}{(p.AltMac ? " altmac" : "")} mtu {p.Mtu} learn {p.LearnLimit} head {p.Headroom} tail {p.Tailroom}" +
                $"{(p.ServesRouter ? " router" : "")}{(p.ServesDhcp ? " dhcp" : "")}{(p.ServesVlans ? " vlans" : "")}{(p.AltInterface ? " eth2" : "")}{(p.OwnNetns ? " own-netns" : "")} addr {p.Addresses} primary {S(p.Primary)} peer {S(p.Peer)}");
        sb.Append($"; acl{(AclDrops ? " drops" : "")}{(AclEntries ? " +entries" : "")}, allow{(AllowDropsNonL4 ? " drops-non-l4" : "")}{(AllowPorts ? " +ports" : "")}, swap={(SwapIsRewrite ? "rewrite" : "counter")}");
        return sb.ToString();
    }
}
