using System.Net;
using System.Text.Json;
using Appliance.Bpf.Routing;
using Appliance.TestSupport;

namespace Appliance.Bpf.Tests.Routing;

/// <summary>Reads a namespace's routes, neighbours, interfaces and addresses as <c>ip -j</c> prints them (plus
/// <c>mtu lock</c> from the text form, which the JSON form leaves out, and the forwarding sysctls) into
/// <see cref="InMemoryFibTables"/>: the tables the engine reads in the differential tests, from the same kernel
/// state the oracle answers from. The source address of a route is its prefsrc, else the first address of the out
/// interface (IPv4: one whose subnet holds the gateway first; IPv6: else of any interface), as the kernel selects one for these test setups.</summary>
public static class IpCommandTables
{
    public static InMemoryFibTables Read(NetNamespace ns, out Dictionary<string, int> ifindexByName)
    {
        var tables = new InMemoryFibTables();
        ifindexByName = [];
        var addresses = new List<(int Ifindex, IpFamily Family, byte[] Address, int PrefixLength)>();
        foreach (var link in Json(ns.Exec("ip", "-j", "addr", "show")).EnumerateArray())
        {
            string name = link.GetProperty("ifname").GetString()!;
            int ifindex = link.GetProperty("ifindex").GetInt32();
            ifindexByName[name] = ifindex;
            var flags = link.GetProperty("flags").EnumerateArray().Select(f => f.GetString()).ToList();
            var mac = link.TryGetProperty("address", out var a) && a.GetString()!.Length == 17 ? Mac(a.GetString()!) : new byte[6];
            tables.SetInterface(ifindex, new FibInterface
            {
                Mtu = link.GetProperty("mtu").GetInt32(),
                Mac = MacBytes.From(mac),
                Up = flags.Contains("UP"),
                Forwarding4 = ns.Exec("cat", $"/proc/sys/net/ipv4/conf/{name}/forwarding").Trim() == "1",
                Forwarding6 = ns.Exec("cat", $"/proc/sys/net/ipv6/conf/{name}/forwarding").Trim() == "1",
            });
            foreach (var info in link.GetProperty("addr_info").EnumerateArray())
            {
                var ip = IPAddress.Parse(info.GetProperty("local").GetString()!);
                if (info.TryGetProperty("scope", out var scope) && scope.GetString() is "link" or "host") continue;
                addresses.Add((ifindex, FamilyOf(ip), ip.GetAddressBytes(), info.GetProperty("prefixlen").GetInt32()));
            }
        }

        foreach (var (family, flag) in new[] { (IpFamily.Inet, "-4"), (IpFamily.Inet6, "-6") })
        {
            var locked = ns.Exec("ip", flag, "route", "show", "table", "all").Split('\n')
                .Where(l => l.Contains(" mtu lock ")).Select(l => (Key(l.Split(' ')), Table(l))).ToHashSet();
            foreach (var r in Json(ns.Exec("ip", "-j", flag, "route", "show", "table", "all")).EnumerateArray())
            {
                string dst = r.GetProperty("dst").GetString()!;
                uint table = r.TryGetProperty("table", out var t) ? TableNumber(t.GetString()!) : 254;
                var route = new FibRoute
                {
                    Kind = r.TryGetProperty("type", out var type) ? KindOf(type.GetString()!) : RouteKind.Unicast,
                    Ifindex = r.TryGetProperty("dev", out var dev) ? ifindexByName[dev.GetString()!] : 0,
                    Metric = r.TryGetProperty("metric", out var metric) ? metric.GetUInt32() : 0,
                };
                if (r.TryGetProperty("gateway", out var gw)) SetGateway(ref route, IPAddress.Parse(gw.GetString()!));
                if (r.TryGetProperty("via", out var via)) SetGateway(ref route, IPAddress.Parse(via.GetProperty("host").GetString()!));
                if (r.TryGetProperty("metrics", out var metrics))
                    foreach (var m in metrics.EnumerateArray())
                        if (m.TryGetProperty("mtu", out var mtu)) route.Mtu = mtu.GetUInt32();
                route.MtuLocked = locked.Contains((dst, table));
                if (r.TryGetProperty("prefsrc", out var prefsrc)) SetSource(ref route, IPAddress.Parse(prefsrc.GetString()!));
                else if (route.Kind == RouteKind.Unicast) SelectSource(ref route, family, addresses);
                var (prefix, length) = Prefix(dst, family);
                tables.AddRoute(table, family, prefix, length, route);
            }
        }

        foreach (var n in Json(ns.Exec("ip", "-j", "neigh", "show")).EnumerateArray())
        {
            var ip = IPAddress.Parse(n.GetProperty("dst").GetString()!);
            var states = n.TryGetProperty("state", out var s) ? s.EnumerateArray().Select(x => x.GetString()).ToList() : [];
            bool valid = states.Any(x => x is "REACHABLE" or "STALE" or "DELAY" or "PROBE" or "PERMANENT" or "NOARP");
            var mac = n.TryGetProperty("lladdr", out var ll) ? Mac(ll.GetString()!) : new byte[6];
            tables.SetNeighbour(FamilyOf(ip), ifindexByName[n.GetProperty("dev").GetString()!], ip.GetAddressBytes(), mac, valid);
        }
        return tables;
    }

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement;

    private static string Key(string[] words) => words[0] is "unicast" or "local" or "broadcast" or "blackhole" or "unreachable"
        or "prohibit" or "throw" or "multicast" or "anycast" ? words[1] : words[0];

    private static uint Table(string line)
    {
        int at = line.IndexOf(" table ", StringComparison.Ordinal);
        return at < 0 ? 254 : TableNumber(line[(at + 7)..].Split(' ')[0]);
    }

    private static uint TableNumber(string name) => name switch
    {
        "local" => 255,
        "main" => 254,
        "default" => 253,
        _ => uint.Parse(name),
    };

    private static RouteKind KindOf(string type) => type switch
    {
        "unicast" => RouteKind.Unicast,
        "local" => RouteKind.Local,
        "broadcast" => RouteKind.Broadcast,
        "anycast" => RouteKind.Anycast,
        "multicast" => RouteKind.Multicast,
        "blackhole" => RouteKind.Blackhole,
        "unreachable" => RouteKind.Unreachable,
        "prohibit" => RouteKind.Prohibit,
        "throw" => RouteKind.Throw,
        "nat" => RouteKind.Nat,
        _ => throw new InvalidDataException($"route type {type}"),
    };

    private static (byte[] Prefix, int Length) Prefix(string dst, IpFamily family)
    {
        if (dst == "default") return (new byte[IpFamilies.AddressLength(family)], 0);
        var parts = dst.Split('/');
        var bytes = IPAddress.Parse(parts[0]).GetAddressBytes();
        return (bytes, parts.Length > 1 ? int.Parse(parts[1]) : bytes.Length * 8);
    }

    private static IpFamily FamilyOf(IPAddress ip) =>
        ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? IpFamily.Inet : IpFamily.Inet6;

    private static void SetGateway(ref FibRoute route, IPAddress gateway)
    {
        route.GatewayFamily = FamilyOf(gateway);
        route.Gateway = IpAddressBytes.From(gateway.GetAddressBytes());
    }

    private static void SetSource(ref FibRoute route, IPAddress source)
    {
        route.SourceFamily = FamilyOf(source);
        route.Source = IpAddressBytes.From(source.GetAddressBytes());
    }

    private static void SelectSource(ref FibRoute route, IpFamily family, List<(int Ifindex, IpFamily Family, byte[] Address, int PrefixLength)> addresses)
    {
        int ifindex = route.Ifindex;
        var own = addresses.Where(a => a.Ifindex == ifindex && a.Family == family).ToList();
        if (own.Count == 0 && family == IpFamily.Inet6) // ipv6_dev_get_saddr looks at every interface
            own = addresses.Where(a => a.Family == family).OrderBy(a => a.Ifindex).ToList();
        if (own.Count == 0) return;
        var gateway = ((ReadOnlySpan<byte>)route.Gateway)[..4].ToArray();
        var chosen = family == IpFamily.Inet && route.GatewayFamily == IpFamily.Inet
            ? own.FirstOrDefault(a => SameSubnet(a.Address, gateway, a.PrefixLength), own[0])
            : own[0];
        route.SourceFamily = family;
        route.Source = IpAddressBytes.From(chosen.Address);
    }

    private static bool SameSubnet(byte[] a, ReadOnlySpan<byte> b, int prefixLength)
    {
        for (int bit = 0; bit < prefixLength; bit++)
            if (((a[bit / 8] ^ b[bit / 8]) & (0x80 >> (bit % 8))) != 0) return false;
        return true;
    }

    private static byte[] Mac(string text) => text.Split(':').Select(x => Convert.ToByte(x, 16)).ToArray();
}
