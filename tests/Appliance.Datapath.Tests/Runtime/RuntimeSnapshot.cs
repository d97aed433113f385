using Appliance.Config;
using Appliance.Datapath.Links;
using Appliance.Datapath.Runtime;
using Appliance.TestSupport;

namespace Appliance.Datapath.Tests.Runtime;

/// <summary>What a running appliance shows of itself and of the kernel, as lines that do not depend on its history:
/// names instead of engine indices, ifindexes and program ids; each port's steering (attached, unclaimed policy,
/// which MACs of <paramref name="macs"/> it claims, its L3 prefixes), classifier and sockets; each pair's sides
/// (policy, scrub, chain, whether the chain runs the programs loaded now), its links (MTU, up, NOARP, XDP) and its
/// tenant's addresses and routes; the programs, which share an object, and the maps the config fills. Two runtimes
/// started from one config give equal snapshots; so must one that reached that config by live edits.</summary>
public static class RuntimeSnapshot
{
    public static List<string> Take(ApplianceRuntime rt, IEnumerable<MacAddress> macs)
    {
        var lines = new List<string>();
        var t = rt.Topology;
        var links = new LinkManager();
        string NameOf(int index) => t.PairByEnginePort.ElementAtOrDefault(index)?.Name ?? t.PortByEnginePort.ElementAtOrDefault(index)?.Name ?? $"?{index}";
        var sockets = rt.Engine.AllPorts.GroupBy(s => s.Index).ToDictionary(g => g.Key, g => g.Count());

        lines.Add($"config ports [{string.Join(" ", rt.Config.Ports.Select(p => p.Name))}] pairs [{string.Join(" ", rt.Config.Pairs.Select(p => p.Name))}]");
        lines.Add($"topology ports [{string.Join(" ", t.Ports.Select(p => p.Name))}] pairs [{string.Join(" ", t.Pairs.Select(p => p.Name))}]");
        lines.Add($"engine sockets [{string.Join(" ", sockets.OrderBy(s => NameOf(s.Key), StringComparer.Ordinal).Select(s => $"{NameOf(s.Key)}:{s.Value}"))}]");
        lines.Add($"flooder listens on [{string.Join(" ", rt.Flooder.ListensOn.Order(StringComparer.Ordinal))}]");
        lines.Add($"l2 addresses [{string.Join(" ", t.L2Addresses.Entries().Select(e => $"{e.Prefix:x}/{e.Length}→{e.Value.Name}").Order(StringComparer.Ordinal))}]");
        foreach (var port in t.Ports)
        {
            var link = links.Get(port.Name);
            var steering = port.Steering;
            lines.Add($"port {port.Name}: unclaimed {port.Config.Unclaimed} steering drops unclaimed {steering?.DropUnclaimed} xdp {link.Xdp.Mode} " +
                $"redirectable {t.TryPort((uint)port.Ifindex, out int pi) && pi == port.Index} mtu {link.Mtu} up {link.IsUp} mtuOf {t.MtuOf((uint)port.Ifindex)} mac is the link's {link.Mac is { } lm && MacAddress.Read(lm.GetAddressBytes()) == port.Mac}");
            lines.Add($"port {port.Name}: l2 pairs [{string.Join(" ", port.L2Pairs.Select(NameOf))}] flood [{string.Join(" ", port.Classifier.FloodTargets.ToArray().Select(NameOf))}]");
            lines.Add($"port {port.Name}: classifier [{string.Join(" ", port.Classifier.Macs.Select(m => $"{m}→{(port.Classifier.TryOwner(m, out int o) ? NameOf(o) : "-")}").Order(StringComparer.Ordinal))}]");
            lines.Add($"port {port.Name}: steering claims [{string.Join(" ", macs.Where(m => steering?.IsClaimed(m) == true).Select(m => m.ToString()).Order(StringComparer.Ordinal))}]");
            lines.Add($"port {port.Name}: l3 [{string.Join(" ", port.L3Prefixes.Entries().Select(e => $"{e.Prefix:x}/{e.Length}→{e.Value.Name}").Order(StringComparer.Ordinal))}] " +
                $"in steering {steering?.L3PrefixCount} board addresses {steering?.L3BoardAddressCount} left out {steering?.L3LeftOut}");
        }
        foreach (var pair in t.Pairs)
        {
            var primary = links.Get(pair.PrimaryName);
            lines.Add($"pair {pair.Name}: mode {pair.Config.Mode} uplink {NameOf(pair.UplinkPort)} tenant mac {(pair.Config.Mode == PairMode.L2 ? pair.TenantMac.ToString() : "-")} " +
                $"serves router {pair.ServesRouter} dhcp {pair.ServesDhcp} vlans {pair.TrunksVlans} carrier {pair.CarrierUp} redirectable {t.TryPairPrimary((uint)pair.PrimaryIfindex, out int xi) && xi == pair.Index} " +
                $"ifindexes match {primary.Index == pair.PrimaryIfindex} mtuOf {t.MtuOf((uint)pair.PrimaryIfindex)}");
            foreach (var side in new[] { pair.Primary, pair.Peer })
            {
                var chain = side.Chain.Programs;
                lines.Add($"pair {pair.Name} {side.Kind}: policy {side.Policy} scrub {side.Scrub} chain [{string.Join(" ", chain.Select(p => p.Name))}] " +
                    $"runs the loaded programs {chain.All(p => rt.Programs.TryGet(p.Name, out var now) && ReferenceEquals(now, p))}");
            }
            lines.Add($"pair {pair.Name} primary end: mtu {primary.Mtu} up {primary.IsUp} xdp {primary.Xdp.Mode} noarp {(primary.Flags & NoArp) != 0}");
            var tenant = pair.Config.Tenant;
            using (var inside = new LinkManager(tenant.Netns))
            {
                var l = inside.Get(tenant.Interface);
                lines.Add($"pair {pair.Name} tenant end: mtu {l.Mtu} up {l.IsUp} noarp {(l.Flags & NoArp) != 0} mac {(pair.Config.Mode == PairMode.L2 ? l.Mac : "-")} " +
                    $"peer of primary {l.Index == pair.TenantIfindex}");
            }
            // IPv6: the global ones (a link-local address follows the interface's MAC, an L3 tenant's a random one).
            lines.Add($"pair {pair.Name} tenant addresses [{string.Join(" ", Ip(tenant.Netns, "-4", "-o", "addr", "show", "dev", tenant.Interface)
                .Concat(Ip(tenant.Netns, "-6", "-o", "addr", "show", "dev", tenant.Interface, "scope", "global"))
                .Select(a => a.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3]).Order(StringComparer.Ordinal))}]");
            // Without a subnet route's source: the subnet's primary address, the first added. A reload adds a tenant's new
            // address beside those it keeps (as `ip addr add`), where a start adds them in config order.
            lines.Add($"pair {pair.Name} tenant routes [{string.Join(" | ", Ip(tenant.Netns, "-4", "route", "show", "dev", tenant.Interface)
                .Concat(Ip(tenant.Netns, "-6", "route", "show", "dev", tenant.Interface))
                .Select(r => System.Text.RegularExpressions.Regex.Replace(r, " src [0-9.]+", "")).Order(StringComparer.Ordinal))}]");
        }
        foreach (var p in rt.Programs.Programs.OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            lines.Add($"program {p.Name}: {Path.GetFileName(p.Object.Path)} {p.Config.Section} {rt.EngineOf(p)} shares its object with " +
                $"[{string.Join(" ", rt.Programs.Programs.Where(o => o != p && ReferenceEquals(o.Object, p.Object)).Select(o => o.Name).Order(StringComparer.Ordinal))}]");
            var configured = rt.Config.Programs.Single(c => c.Name == p.Name);
            lines.Add($"program {p.Name}: its config is the running config's {Json(p.Config) == Json(configured)}");
            foreach (var name in configured.Maps.Keys.Order(StringComparer.Ordinal))
                lines.Add($"program {p.Name} map {name}: [{string.Join(" ", Contents(p.Object.FindMap(name)!, keysOnly: name != ".rodata"))}]");
        }
        lines.Add($"objects {rt.Programs.Objects.Count}, every one some program's: {rt.Programs.Objects.All(o => rt.Programs.Programs.Any(p => ReferenceEquals(p.Object, o)))}");
        return lines;
    }

    private static string Json(ProgramConfig pc) => System.Text.Json.JsonSerializer.Serialize(pc, ConfigJsonContext.Default.ProgramConfig);

    private const uint NoArp = 0x80; // IFF_NOARP

    private static IEnumerable<string> Ip(string netns, params string[] args) =>
        Shell.Check("ip", ["-n", netns, .. args]).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>A map's keys (and values, unless <paramref name="keysOnly"/>: counters move with traffic), hex.</summary>
    private static IEnumerable<string> Contents(Bpf.Maps.BpfMap map, bool keysOnly)
    {
        var key = Array.Empty<byte>();
        var next = new byte[map.KeySize];
        var value = new byte[map.UserValueSize];
        var seen = new List<string>();
        while (map.TryGetNextKey(key, next) && seen.Count < 10_000)
        {
            key = (byte[])next.Clone();
            seen.Add(Convert.ToHexString(key) + (keysOnly || !map.TryLookupFromUser(key, value) ? "" : "=" + Convert.ToHexString(value)));
        }
        return seen.Order(StringComparer.Ordinal);
    }

    /// <summary>The lines of <paramref name="a"/> and <paramref name="b"/> that differ, "- " for a's, "+ " for b's; empty when equal.</summary>
    public static string Difference(IReadOnlyList<string> a, IReadOnlyList<string> b) =>
        string.Join("\n", a.Except(b).Select(l => "- " + l).Concat(b.Except(a).Select(l => "+ " + l)));
}
