using System.Collections.Immutable;
using Appliance.Config;

namespace Appliance.Datapath.Tests.Runtime;

/// <summary>The random edits of the live-edit walk: each takes a valid <see cref="WalkConfig"/> and a seeded
/// <see cref="Random"/> and returns the edited config and what it did (for the failure message), or null when it
/// does not apply to this config (no free pair slot to add, no pair to remove ...).</summary>
public static class LiveEdits
{
    private delegate (WalkConfig Next, string What)? Edit(WalkConfig c, Random r);

    private static readonly (string Name, Edit Edit)[] All =
    [
        ("add pair", AddPair), ("add pair", AddPair), ("remove pair", RemovePair), ("move pair", MovePair),
        ("policy", Policy), ("scrub", Scrub), ("chain add", ChainAdd), ("chain add", ChainAdd), ("chain remove", ChainRemove),
        ("chain reorder", ChainReorder), ("addresses", Addresses), ("mtu", Mtu), ("learnLimit", LearnLimit),
        ("mac", Mac), ("mode", Mode), ("adopt", Adopt), ("serves", Serves), ("headroom", Headroom),
        ("add port", AddPort), ("remove port", RemovePort), ("unclaimed", Unclaimed), ("port mac", PortMac),
        ("addresses", Addresses), ("tailroom", Tailroom), ("port mtu", PortMtu), ("queues", Queues),
        ("interface", Interface), ("netns", Netns), ("adopt l3", AdoptL3), ("adopt l3", AdoptL3),
        ("restart-only", (c, r) => c with { Restart = Pick(r, [RestartOnly.Workers, RestartOnly.Frames, RestartOnly.Jit, RestartOnly.ControlSocket]) } is var n
            ? (n, $"{n.Restart} changed (applies at the next start)") : null),
        ("acl .rodata", (c, _) => (c with { AclDrops = !c.AclDrops }, $"acl default verdict → {(c.AclDrops ? "pass" : "drop")} (.rodata: a new object)")),
        ("allow .rodata", (c, _) => (c with { AllowDropsNonL4 = !c.AllowDropsNonL4 }, $"allow pass_non_l4 → {(c.AllowDropsNonL4 ? 1 : 0)} (.rodata: a new object)")),
        ("allow map", (c, _) => (c with { AllowPorts = !c.AllowPorts }, $"allow allowed_ports {(c.AllowPorts ? "emptied" : "← 80, 443")}")),
        ("acl map", (c, _) => (c with { AclEntries = !c.AclEntries }, $"acl acl_v4 {(c.AclEntries ? "emptied" : "← 10.99.0.0/24")}")),
        ("swap object", (c, _) => (c with { SwapIsRewrite = !c.SwapIsRewrite }, $"program swap's object → {(c.SwapIsRewrite ? "counter" : "rewrite")}.bpf.o")),
    ];

    /// <summary>A random start: 1 to 3 ports, 1 to 4 pairs, then two random edits.</summary>
    public static WalkConfig Start(Random r)
    {
        var c = WalkConfig.Empty;
        for (int ports = r.Next(3); ports > 0; ports--) c = AddPort(c, r)!.Value.Item1;
        for (int pairs = 1 + r.Next(WalkConfig.PairSlots); pairs > 0; pairs--) c = AddPair(c, r)!.Value.Item1;
        for (int i = 0; i < 2; i++) c = Next(c, r).Next with { Restart = RestartOnly.None };
        return c;
    }

    /// <summary>One applicable edit, chosen at random.</summary>
    public static (WalkConfig Next, string What) Next(WalkConfig c, Random r)
    {
        while (true)
        {
            var (name, edit) = All[r.Next(All.Length)];
            if (edit(c, r) is { } done) return (done.Next, $"{name}: {done.What}");
        }
    }

    private static T Pick<T>(Random r, IReadOnlyList<T> items) => items[r.Next(items.Count)];

    private static WalkConfig WithPair(WalkConfig c, WalkPair p) => c with { Pairs = c.Pairs.Replace(c.Pairs.Single(x => x.Slot == p.Slot), p) };

    private static WalkSide RandomSide(Random r, bool primary, PairMode mode)
    {
        var allowed = WalkConfig.Programs.Select(p => p.Name).Where(n => WalkConfig.MayRun(n, primary, mode)).ToList();
        var chain = ImmutableList.CreateBuilder<string>();
        int length = r.Next(3);
        while (chain.Count < length)
        {
            var p = Pick(r, allowed);
            if (!chain.Contains(p)) chain.Add(p);
        }
        return new WalkSide(r.Next(4) == 0 ? SidePolicy.Drop : SidePolicy.Pass, r.Next(2) == 0 ? ScrubMode.Default : ScrubMode.None, chain.ToImmutable());
    }

    private static (WalkConfig, string)? AddPair(WalkConfig c, Random r)
    {
        var free = Enumerable.Range(0, WalkConfig.PairSlots).Where(s => c.Pairs.All(p => p.Slot != s)).ToList();
        if (free.Count == 0) return null;
        int slot = Pick(r, free);
        var mode = r.Next(3) == 0 ? PairMode.L3 : PairMode.L2;
        bool adopted = slot == WalkConfig.AdoptableSlot && r.Next(2) == 0;
        var pair = new WalkPair(slot, mode, Pick(r, c.Ports).Slot, r.Next(2) == 0, Pick(r, [1500, 1400]), 16, 0, false,
            adopted && mode == PairMode.L2 ? 0 : RandomAddresses(r, mode), RandomSide(r, true, mode), RandomSide(r, false, mode), adopted);
        int at = r.Next(c.Pairs.Count + 1);
        return (c with { Pairs = c.Pairs.Insert(at, pair) }, $"t{slot} {mode.ToString().ToLowerInvariant()}{(adopted ? " adopted" : "")} at {at}");
    }

    /// <summary>Random addresses for a pair of <paramref name="mode"/> (an L3 pair's include a reachable one).</summary>
    private static int RandomAddresses(Random r, PairMode mode, int not = -1)
    {
        var choices = Enumerable.Range(0, 64).Where(n => n != not && (mode == PairMode.L2 || WalkConfig.L3Reachable(n))).ToList();
        return Pick(r, choices);
    }

    private static (WalkConfig, string)? RemovePair(WalkConfig c, Random r)
    {
        if (c.Pairs.Count == 0) return null;
        var p = Pick(r, c.Pairs);
        return (c with { Pairs = c.Pairs.Remove(p) }, $"t{p.Slot}");
    }

    private static (WalkConfig, string)? MovePair(WalkConfig c, Random r)
    {
        if (c.Pairs.Count == 0 || c.Ports.Count < 2) return null;
        var p = Pick(r, c.Pairs);
        var to = Pick(r, c.Ports.Where(x => x.Slot != p.Uplink).ToList()).Slot;
        return (WithPair(c, p with { Uplink = to }), $"t{p.Slot} uplink p{p.Uplink} → p{to}");
    }

    private static (WalkConfig, string)? Side(WalkConfig c, Random r, Func<WalkSide, WalkSide?> change, string what)
    {
        if (c.Pairs.Count == 0) return null;
        var p = Pick(r, c.Pairs);
        bool primary = r.Next(2) == 0;
        var before = primary ? p.Primary : p.Peer;
        if (change(before) is not { } after) return null;
        return (WithPair(c, primary ? p with { Primary = after } : p with { Peer = after }),
            $"t{p.Slot} {(primary ? "primary" : "peer")} {what} [{string.Join(",", before.Chain)}] {before.Policy}/{before.Scrub} → [{string.Join(",", after.Chain)}] {after.Policy}/{after.Scrub}");
    }

    private static (WalkConfig, string)? Policy(WalkConfig c, Random r) =>
        Side(c, r, s => s with { Policy = s.Policy == SidePolicy.Pass ? SidePolicy.Drop : SidePolicy.Pass }, "policy");

    private static (WalkConfig, string)? Scrub(WalkConfig c, Random r) =>
        Side(c, r, s => s with { Scrub = s.Scrub == ScrubMode.Default ? ScrubMode.None : ScrubMode.Default }, "scrub");

    private static (WalkConfig, string)? ChainAdd(WalkConfig c, Random r)
    {
        if (c.Pairs.Count == 0) return null;
        var p = Pick(r, c.Pairs);
        bool primary = r.Next(2) == 0;
        var side = primary ? p.Primary : p.Peer;
        var can = WalkConfig.Programs.Select(x => x.Name).Where(n => WalkConfig.MayRun(n, primary, p.Mode) && !side.Chain.Contains(n)).ToList();
        if (can.Count == 0) return null;
        var program = Pick(r, can);
        int at = r.Next(side.Chain.Count + 1);
        var after = side with { Chain = side.Chain.Insert(at, program) };
        return (WithPair(c, primary ? p with { Primary = after } : p with { Peer = after }),
            $"t{p.Slot} {(primary ? "primary" : "peer")} + {program} at {at} → [{string.Join(",", after.Chain)}]");
    }

    private static (WalkConfig, string)? ChainRemove(WalkConfig c, Random r) =>
        Side(c, r, s => s.Chain.Count == 0 ? null : s with { Chain = s.Chain.RemoveAt(r.Next(s.Chain.Count)) }, "chain remove");

    private static (WalkConfig, string)? ChainReorder(WalkConfig c, Random r) =>
        Side(c, r, s => s.Chain.Count < 2 ? null : s with { Chain = [.. s.Chain.Skip(1), s.Chain[0]] }, "chain reorder");

    private static (WalkConfig, string)? Addresses(WalkConfig c, Random r)
    {
        var own = c.Pairs.Where(p => !(p.Adopted && p.Mode == PairMode.L2)).ToList();
        if (own.Count == 0) return null;
        var p = Pick(r, own);
        int n = RandomAddresses(r, p.Mode, not: p.Addresses);
        return (WithPair(c, p with { Addresses = n }), $"t{p.Slot} addresses {p.Addresses} → {n} (bits: 10.5x.0.1x, 10.7x.0.2, 10.5x.0.2x, fd00:5x::1x, fd00:7x::2, fd00:5x::2x)");
    }

    private static (WalkConfig, string)? Mtu(WalkConfig c, Random r) =>
        Setting(c, r, "MTU", [1500, 1400, 1280, 3000], p => p.Mtu, (p, v) => p with { Mtu = v });

    private static (WalkConfig, string)? LearnLimit(WalkConfig c, Random r) =>
        Setting(c, r, "learnLimit", [16, 4, 0], p => p.LearnLimit, (p, v) => p with { LearnLimit = v });

    /// <summary>A random pair's setting <paramref name="name"/> to another of <paramref name="values"/>.</summary>
    private static (WalkConfig, string)? Setting(WalkConfig c, Random r, string name, int[] values, Func<WalkPair, int> get, Func<WalkPair, int, WalkPair> set)
    {
        if (c.Pairs.Count == 0) return null;
        var p = Pick(r, c.Pairs);
        int value = Pick(r, values.Where(v => v != get(p)).ToList());
        return (WithPair(c, set(p, value)), $"t{p.Slot} {name} {get(p)} → {value}");
    }

    private static (WalkConfig, string)? Mac(WalkConfig c, Random r)
    {
        var l2 = c.Pairs.Where(p => p.Mode == PairMode.L2 && !p.Adopted).ToList();
        if (l2.Count == 0) return null;
        var p = Pick(r, l2);
        return (WithPair(c, p with { AltMac = !p.AltMac }), $"t{p.Slot} MAC → {WalkConfig.MacOf(p.Slot, !p.AltMac)}");
    }

    private static (WalkConfig, string)? Mode(WalkConfig c, Random r)
    {
        if (c.Pairs.Count == 0) return null;
        var p = Pick(r, c.Pairs);
        var mode = p.Mode == PairMode.L2 ? PairMode.L3 : PairMode.L2;
        var next = p with
        {
            Mode = mode,
            Addresses = mode == PairMode.L3 ? (WalkConfig.L3Reachable(p.Addresses) ? p.Addresses : p.Addresses | Pick(r, [WalkConfig.V4Reachable, WalkConfig.V6Reachable]))
                : p.Adopted ? 0 : p.Addresses,
            ServesRouter = mode == PairMode.L2 && p.ServesRouter,
            ServesDhcp = mode == PairMode.L2 && p.ServesDhcp,
            ServesVlans = mode == PairMode.L2 && p.ServesVlans,
            Primary = RunnableIn(p.Primary, true, mode),
            Peer = RunnableIn(p.Peer, false, mode),
        };
        return (WithPair(c, next), $"t{p.Slot} mode → {mode.ToString().ToLowerInvariant()}");
    }

    /// <summary>The adoptable slot's pair adopts the test's veth, or creates its own again (either re-creates it).</summary>
    private static (WalkConfig, string)? Adopt(WalkConfig c, Random r)
    {
        if (c.Pairs.FirstOrDefault(p => p.Slot == WalkConfig.AdoptableSlot) is not { } p) return null;
        var next = p.Adopted ? p with { Adopted = false }
            : p with { Adopted = true, AltMac = false, AltInterface = false, OwnNetns = false, Addresses = p.Mode == PairMode.L2 ? 0 : p.Addresses };
        return (WithPair(c, next), $"t{p.Slot} {(next.Adopted ? "adopts the test's veth" : "creates its veth")}");
    }

    /// <summary>A side's chain without the programs a pair of <paramref name="mode"/> may not run there.</summary>
    private static WalkSide RunnableIn(WalkSide s, bool primary, PairMode mode) => s with { Chain = [.. s.Chain.Where(n => WalkConfig.MayRun(n, primary, mode))] };

    /// <summary>The adoptable slot's pair becomes an L3 pair that adopts the test's veth (added when the slot is free).</summary>
    private static (WalkConfig, string)? AdoptL3(WalkConfig c, Random r)
    {
        if (c.Pairs.FirstOrDefault(p => p.Slot == WalkConfig.AdoptableSlot) is not { } p)
        {
            var pair = new WalkPair(WalkConfig.AdoptableSlot, PairMode.L3, Pick(r, c.Ports).Slot, false, 1500, 16, 0, false, RandomAddresses(r, PairMode.L3),
                RandomSide(r, true, PairMode.L3), RandomSide(r, false, PairMode.L3), Adopted: true);
            int at = r.Next(c.Pairs.Count + 1);
            return (c with { Pairs = c.Pairs.Insert(at, pair) }, $"t{pair.Slot} l3 adopted at {at}");
        }
        if (p.Adopted && p.Mode == PairMode.L3) return null;
        var next = p with
        {
            Mode = PairMode.L3, Adopted = true, AltMac = false, AltInterface = false, OwnNetns = false,
            ServesRouter = false, ServesDhcp = false, ServesVlans = false,
            Addresses = WalkConfig.L3Reachable(p.Addresses) ? p.Addresses : RandomAddresses(r, PairMode.L3),
            Primary = RunnableIn(p.Primary, true, PairMode.L3), Peer = RunnableIn(p.Peer, false, PairMode.L3),
        };
        return (WithPair(c, next), $"t{p.Slot} → l3, adopting the test's veth");
    }

    private static (WalkConfig, string)? Serves(WalkConfig c, Random r)
    {
        var l2 = c.Pairs.Where(p => p.Mode == PairMode.L2).ToList();
        if (l2.Count == 0) return null;
        var p = Pick(r, l2);
        return r.Next(3) switch
        {
            0 => (WithPair(c, p with { ServesRouter = !p.ServesRouter }), $"t{p.Slot} serves router → {!p.ServesRouter}"),
            1 => (WithPair(c, p with { ServesDhcp = !p.ServesDhcp }), $"t{p.Slot} serves dhcp → {!p.ServesDhcp}"),
            _ => (WithPair(c, p with { ServesVlans = !p.ServesVlans }), $"t{p.Slot} serves vlans → {!p.ServesVlans}"),
        };
    }

    private static (WalkConfig, string)? Headroom(WalkConfig c, Random r) =>
        Setting(c, r, "headroom", [0, 32, 128, 512], p => p.Headroom, (p, v) => p with { Headroom = v });

    /// <summary>A pair's tenant interface renamed (eth0 ↔ eth2): re-creates it.</summary>
    private static (WalkConfig, string)? Interface(WalkConfig c, Random r)
    {
        var own = c.Pairs.Where(p => !p.Adopted).ToList();
        if (own.Count == 0) return null;
        var p = Pick(r, own);
        var next = p with { AltInterface = !p.AltInterface };
        return (WithPair(c, next), $"t{p.Slot} tenant interface → {WalkConfig.TenantInterfaceOf(next)}");
    }

    /// <summary>A pair's tenant moves between the board's namespace and one the appliance creates: re-creates it.</summary>
    private static (WalkConfig, string)? Netns(WalkConfig c, Random r)
    {
        var own = c.Pairs.Where(p => !p.Adopted).ToList();
        if (own.Count == 0) return null;
        var p = Pick(r, own);
        return (WithPair(c, p with { OwnNetns = !p.OwnNetns }), $"t{p.Slot} tenant netns → {(p.OwnNetns ? "the board's" : "its own, created by the appliance")}");
    }

    private static (WalkConfig, string)? Tailroom(WalkConfig c, Random r) =>
        Setting(c, r, "tailroom", [0, 16, 64], p => p.Tailroom, (p, v) => p with { Tailroom = v });

    /// <summary>A port's MTU; once set never left out (the interface keeps the last one set, a start would keep it).</summary>
    private static (WalkConfig, string)? PortMtu(WalkConfig c, Random r)
    {
        var port = Pick(r, c.Ports);
        var next = port with { Mtu = Pick(r, new[] { 1500, 1400, 1280 }.Where(m => m != port.Mtu).ToList()) };
        return (c with { Ports = c.Ports.Replace(port, next) }, $"p{port.Slot} MTU {(port.Mtu == 0 ? "(none)" : port.Mtu)} → {next.Mtu}");
    }

    /// <summary>A port's RX queues: none said (one per worker), 1 or 2 (the board's veths have 2).</summary>
    private static (WalkConfig, string)? Queues(WalkConfig c, Random r)
    {
        var port = Pick(r, c.Ports);
        var next = port with { Queues = Pick(r, new[] { 0, 1, 2 }.Where(q => q != port.Queues).ToList()) };
        return (c with { Ports = c.Ports.Replace(port, next) }, $"p{port.Slot} queues {port.Queues} → {next.Queues} (0: none said)");
    }

    private static (WalkConfig, string)? AddPort(WalkConfig c, Random r)
    {
        var free = Enumerable.Range(0, WalkConfig.PortSlots).Where(s => c.Ports.All(p => p.Slot != s)).ToList();
        if (free.Count == 0) return null;
        var port = new WalkPort(Pick(r, free), r.Next(2) == 0 ? UnclaimedPolicy.Kernel : UnclaimedPolicy.Drop);
        int at = r.Next(c.Ports.Count + 1);
        return (c with { Ports = c.Ports.Insert(at, port) }, $"p{port.Slot} at {at}");
    }

    /// <summary>Removes a port; its pairs move to another port (a pair must have an uplink).</summary>
    private static (WalkConfig, string)? RemovePort(WalkConfig c, Random r)
    {
        if (c.Ports.Count < 2) return null;
        var port = Pick(r, c.Ports);
        var rest = c.Ports.Remove(port);
        int to = Pick(r, rest).Slot;
        var pairs = c.Pairs.Select(p => p.Uplink == port.Slot ? p with { Uplink = to } : p).ToImmutableList();
        return (c with { Ports = rest, Pairs = pairs }, $"p{port.Slot} (its pairs to p{to})");
    }

    private static (WalkConfig, string)? PortMac(WalkConfig c, Random r)
    {
        var port = Pick(r, c.Ports);
        var next = port with { Mac = port.Mac % 2 + 1 };
        return (c with { Ports = c.Ports.Replace(port, next) }, $"p{port.Slot} MAC → {WalkConfig.PortMacOf(next)}");
    }

    private static (WalkConfig, string)? Unclaimed(WalkConfig c, Random r)
    {
        var port = Pick(r, c.Ports);
        var next = port with { Unclaimed = port.Unclaimed == UnclaimedPolicy.Kernel ? UnclaimedPolicy.Drop : UnclaimedPolicy.Kernel };
        return (c with { Ports = c.Ports.Replace(port, next) }, $"p{port.Slot} unclaimed → {next.Unclaimed.ToString().ToLowerInvariant()}");
    }
}
