using System.Buffers.Binary;
using System.Net;
using Appliance.Bpf.Objects;
using Appliance.Bpf.Routing;
using Appliance.Interop;

namespace Appliance.Bpf.Oracle;

/// <summary>bpf_fib_lookup, the engine's against the kernel's, on one namespace's tables: <see cref="Setup"/> gives a
/// namespace interfaces, addresses, routes of every kind (via a gateway, on-link, locked and unlocked route MTUs,
/// metrics, prefsrc, an IPv6 gateway for IPv4, blackhole, unreachable, prohibit, throw, a second table, a route whose
/// device is not the one BPF_FIB_LOOKUP_OUTPUT names with a shorter one that is, two metrics of one prefix on two
/// devices) and permanent neighbours. <see cref="Compare"/> runs the routing_helpers test program (fib_probe,
/// fib_in_map) in the kernel (BPF_PROG_TEST_RUN inside that namespace) and in the engine over the given tables for
/// every query (destinations × flags × input interface × tot_len × frame size, IPv4 and IPv6, bad plen/family/flags):
/// the return code and all 64 bytes of the struct afterwards must agree. Used over tables read with `ip -j` (the Bpf
/// tests) and over the appliance's rtnetlink snapshot, KernelTables (the Datapath tests).</summary>
public static class FibLookupDifferential
{
    public const uint Direct = 1, OutputFlag = 2, SkipNeigh = 4, Tbid = 8, Src = 16, Mark = 32;

    public static readonly string[] Setup =
    [
        "sysctl -qw net.ipv4.ip_forward=1",
        "sysctl -qw net.ipv6.conf.all.forwarding=1",
        "ip link add v0 type veth peer name v1",
        "ip link add d1 type veth peer name d1p",
        "ip link add d2 type veth peer name d2p",
        "ip link set d1 mtu 1400",
        "ip link set v0 up", "ip link set v1 up", "ip link set d1 up", "ip link set d2 up", "ip link set d1p up", "ip link set d2p up",
        "sysctl -qw net.ipv4.conf.d2.forwarding=0",
        "sysctl -qw net.ipv6.conf.d2.forwarding=0",
        "ip addr add 10.20.0.1/24 dev v0", "ip addr add 10.30.0.1/24 dev d1", "ip addr add 10.70.0.1/24 dev d2",
        "ip addr add fd20::1/64 dev v0 nodad", "ip addr add fd30::1/64 dev d1 nodad",
        "ip route add 10.40.0.0/16 via 10.20.0.254",
        "ip route add 10.41.0.0/16 via 10.20.0.253",
        "ip route add 10.42.0.0/16 via 10.30.0.254 mtu lock 1300",
        "ip route add 10.43.0.0/16 via 10.20.0.254 mtu 1200",
        "ip route add 10.44.0.0/16 via 10.20.0.254 metric 77",
        "ip route add 10.45.0.0/16 via 10.20.0.254 src 10.30.0.1",
        "ip route add 10.46.0.0/16 via inet6 fd20::fe dev v0",
        "ip route add 10.47.0.0/16 dev d1",
        "ip route add blackhole 10.50.0.0/16", "ip route add unreachable 10.51.0.0/16", "ip route add prohibit 10.52.0.0/16",
        "ip route add throw 10.53.0.0/16",
        "ip route add 10.0.0.0/8 via 10.20.0.254",
        "ip route add 10.48.0.0/16 via 10.30.0.254",
        "ip route add 10.49.0.0/16 via 10.30.0.254 metric 10",
        "ip route add 10.49.0.0/16 via 10.20.0.253 metric 20",
        "ip route add 10.60.0.0/16 via 10.30.0.254 table 100",
        "ip route add blackhole 10.61.0.0/16 table 100",
        "ip -6 route add fd40::/64 via fd20::fe",
        "ip -6 route add fd41::/64 via fd20::fd",
        "ip -6 route add fd42::/64 via fd30::fe mtu lock 1300",
        "ip -6 route add fd43::/64 via fd20::fe mtu 1200",
        "ip -6 route add fd44::/64 via fd20::fe metric 77",
        "ip -6 route add fd45::/64 via fd20::fe src fd30::1",
        "ip -6 route add fd46::/64 dev d2",
        "ip -6 route add blackhole fd50::/64", "ip -6 route add unreachable fd51::/64", "ip -6 route add prohibit fd52::/64",
        "ip -6 route add fd60::/64 via fd30::fe table 100",
        "ip -6 route add fd00::/8 via fd20::fe",
        "ip -6 route add fd48::/64 via fd30::fe",
        "ip neigh add 10.20.0.254 lladdr 02:00:00:00:00:fe dev v0 nud permanent",
        "ip neigh add 10.20.0.5 lladdr 02:00:00:00:00:05 dev v0 nud permanent",
        "ip neigh add 10.30.0.254 lladdr 02:00:00:00:01:fe dev d1 nud permanent",
        "ip neigh add 10.30.0.9 lladdr 02:00:00:00:01:09 dev d1 nud permanent",
        "ip neigh add fd20::fe lladdr 02:00:00:00:00:fe dev v0 nud permanent",
        "ip neigh add fd20::5 lladdr 02:00:00:00:00:05 dev v0 nud permanent",
        "ip neigh add fd30::fe lladdr 02:00:00:00:01:fe dev d1 nud permanent",
    ];

    private static readonly string[] V4Destinations =
    [
        "10.20.0.5", "10.20.0.6", "10.20.0.1", "10.20.0.255", "10.30.0.9", "10.40.1.1", "10.41.1.1", "10.42.1.1", "10.43.1.1",
        "10.44.1.1", "10.45.1.1", "10.46.1.1", "10.47.0.9", "10.50.1.1", "10.51.1.1", "10.52.1.1", "10.53.1.1", "10.60.1.1",
        "10.61.1.1", "192.0.2.1", "127.0.0.1", "10.70.0.5", "10.48.1.1", "10.49.1.1",
    ];

    private static readonly string[] V6Destinations =
    [
        "fd20::5", "fd20::6", "fd20::1", "fd40::1", "fd41::1", "fd42::1", "fd43::1", "fd44::1", "fd45::1", "fd46::7",
        "fd50::1", "fd51::1", "fd52::1", "fd60::1", "fd48::1", "2001:db8::1", "fe80::1", "ff02::1", "::1",
    ];

    private static readonly (uint Flags, uint Tbid)[] FlagSets =
    [
        (0, 0), (Direct, 0), (Direct | Tbid, 100), (Direct | Tbid, 77), (Tbid, 100), (SkipNeigh, 0), (Src, 0),
        (Src | SkipNeigh, 0), (OutputFlag, 0), (Direct | OutputFlag | SkipNeigh | Src, 0),
    ];

    public sealed record Query(string Name, byte[] Params, uint Flags, int Plen, byte[] Frame);

    /// <summary>What <see cref="Compare"/> found: answers that differ, and how often each kernel return code came.</summary>
    public sealed record Result(int Queries, List<string> Mismatches, Dictionary<long, int> Codes)
    {
        /// <summary>Every BPF_FIB_LKUP_RET_* the setup can give, and the errors (not UNSUPP_LWT: no lwt routes; not
        /// NO_SRC_ADDR: the kernel takes an IPv6 source from any interface, and the namespace has some).</summary>
        public static readonly long[] Expected = [0, 1, 2, 3, 4, 5, 7, 8, -22, -19, -97];

        /// <summary>Codes of <see cref="Expected"/> no query gave (the queries did not reach every branch).</summary>
        public long[] Unmet => [.. Expected.Where(c => !Codes.ContainsKey(c))];

        public string Summary => $"{Queries} queries × 2 programs; kernel return codes: " +
            string.Join(", ", Codes.OrderBy(c => c.Key).Select(c => $"{c.Key}×{c.Value}"));

        public string Describe() => $"{Mismatches.Count} answers differ:\n" + string.Join('\n', Mismatches.Take(5))
            + "\n" + string.Join('\n', Mismatches.Skip(5).Select(m => m.Split('\n')[0]).Take(150));
    }

    /// <summary>Runs <see cref="Setup"/> in namespace <paramref name="ns"/>.</summary>
    public static void Build(TestSupport.NetNamespace ns)
    {
        foreach (var command in Setup)
        {
            var words = command.Split(' ');
            ns.Exec(words[0], words[1..]);
        }
    }

    /// <summary>Every query of <see cref="Queries"/> on the kernel (in namespace <paramref name="netns"/>) and on the engine
    /// over <paramref name="tables"/>; <paramref name="v0"/>, <paramref name="d1"/> and <paramref name="d2"/> are the
    /// interfaces' ifindexes (inputs; d1 also the output interface of the OUTPUT queries, d2 does not forward).</summary>
    public static Result Compare(string netns, BpfObject obj, IFibTables tables, bool jit, int v0, int d1, int d2)
    {
        using var kernel = KernelObject.Load(obj);
        using var engine = new EngineObject(obj, jit: jit, fibTables: tables);
        var queries = Queries(v0, d1, d2).ToList();
        var codes = new Dictionary<long, int>();
        var mismatches = new List<string>();
        InNamespace(netns, () =>
        {
            foreach (var q in queries)
            {
                var value = new byte[72];
                q.Params.CopyTo(value, 0);
                BinaryPrimitives.WriteUInt32LittleEndian(value.AsSpan(64), q.Flags);
                BinaryPrimitives.WriteInt32LittleEndian(value.AsSpan(68), q.Plen);
                byte[] zero = new byte[4];
                kernel.Update("query", zero, value);
                if (engine.Map("query").UpdateFromUser(zero, value, 0) != 0) throw new InvalidOperationException("engine map update failed");
                foreach (string program in (string[])["fib_probe", "fib_in_map"])
                {
                    var k = kernel.Run(program, q.Frame);
                    var e = engine.Run(program, q.Frame);
                    var kAnswer = kernel.Lookup("answer", zero)!;
                    var eAnswer = engine.Dump("answer").Single().Value;
                    long rc = BinaryPrimitives.ReadInt64LittleEndian(kAnswer);
                    if (program == "fib_probe") codes[rc] = codes.GetValueOrDefault(rc) + 1;
                    if (e.Run.Faulted) mismatches.Add($"{q.Name} {program}: engine faulted ({e.Run.Fault})");
                    else if (k.Retval != (uint)e.Run.R0) mismatches.Add($"{q.Name} {program}: program returned kernel {k.Retval}, engine {e.Run.R0}");
                    else if (!kAnswer.AsSpan().SequenceEqual(eAnswer))
                        mismatches.Add($"{q.Name} {program}: rc kernel {rc}, engine {BinaryPrimitives.ReadInt64LittleEndian(eAnswer)}\n" +
                            $"  kernel {Convert.ToHexString(kAnswer, 8, 64)}\n  engine {Convert.ToHexString(eAnswer, 8, 64)}");
                }
            }
        });
        return new Result(queries.Count, mismatches, codes);
    }

    public static IEnumerable<Query> Queries(int v0, int d1, int d2)
    {
        var small4 = PacketBuilder.Ipv4(PacketBuilder.Udp, [10, 9, 0, 1], [10, 9, 0, 2], 1000, 53, 20);
        var large4 = PacketBuilder.Ipv4(PacketBuilder.Udp, [10, 9, 0, 1], [10, 9, 0, 2], 1000, 53, 1450);
        foreach (var (family, destinations) in new[] { (IpFamily.Inet, V4Destinations), (IpFamily.Inet6, V6Destinations) })
        {
            var source = family == IpFamily.Inet ? IPAddress.Parse("10.9.0.1") : IPAddress.Parse("fd09::1");
            foreach (string d in destinations)
            {
                var dst = IPAddress.Parse(d);
                foreach (var (flags, tbid) in FlagSets)
                    foreach (ushort totLen in (ushort[])[0, 1000, 1350])
                        yield return new Query($"{d} flags={flags} tbid={tbid} tot_len={totLen}",
                            Params(family, dst, source, v0, totLen, tbid), flags, 64, small4);
                yield return new Query($"{d} large frame", Params(family, dst, source, v0, 0, 0), 0, 64, large4);
                yield return new Query($"{d} tot_len=1450", Params(family, dst, source, v0, 1450, 0), 0, 64, small4);
                yield return new Query($"{d} from d2", Params(family, dst, source, d2, 0, 0), 0, 64, small4);
                yield return new Query($"{d} output d1", Params(family, dst, source, d1, 0, 0), OutputFlag, 64, small4);
                yield return new Query($"{d} output d1 direct", Params(family, dst, source, d1, 0, 0), OutputFlag | Direct | SkipNeigh, 64, small4);
                yield return new Query($"{d} from ifindex 999", Params(family, dst, source, 999, 0, 0), 0, 64, small4);
                yield return new Query($"{d} no source", Params(family, dst, null, v0, 0, 0), Src, 64, small4);
                yield return new Query($"{d} plen 80", Params(family, dst, source, v0, 0, 0), 0, 80, small4);
            }
        }
        var any = Params(IpFamily.Inet, IPAddress.Parse("10.40.1.1"), null, v0, 0, 0);
        yield return new Query("plen 40", any, 0, 40, small4);
        yield return new Query("unknown flag", any, 1 << 6, 64, small4);
        var family0 = (byte[])any.Clone();
        family0[0] = 0;
        yield return new Query("family 0", family0, 0, 64, small4);
        family0[0] = 7;
        yield return new Query("family 7", family0, 0, 64, small4);
        var link6 = Params(IpFamily.Inet6, IPAddress.Parse("fd40::1"), IPAddress.Parse("fe80::9"), v0, 0, 0);
        yield return new Query("link-local source", link6, 0, 64, small4);
    }

    public static byte[] Params(IpFamily family, IPAddress dst, IPAddress? src, int ifindex, ushort totLen, uint tbid)
    {
        var p = new byte[64];
        p[0] = (byte)family;
        p[1] = 17;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), 1000);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(4), 53);
        BinaryPrimitives.WriteUInt16LittleEndian(p.AsSpan(6), totLen);
        BinaryPrimitives.WriteInt32LittleEndian(p.AsSpan(8), ifindex);
        src?.GetAddressBytes().CopyTo(p, 16);
        dst.GetAddressBytes().CopyTo(p, 32);
        BinaryPrimitives.WriteUInt32LittleEndian(p.AsSpan(48), tbid);
        p.AsSpan(52, 12).Fill(0xaa); // smac/dmac: must be left alone where the kernel does not write them
        return p;
    }

    /// <summary>Runs <paramref name="action"/> on a thread that entered namespace <paramref name="name"/> (BPF_PROG_TEST_RUN
    /// reads the routing tables of the caller's namespace).</summary>
    public static void InNamespace(string name, Action action)
    {
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            int fd = LibC.Open($"/var/run/netns/{name}", Tmds.Linux.LibC.O_RDONLY | Tmds.Linux.LibC.O_CLOEXEC, 0);
            try
            {
                if (fd < 0 || NetNsCalls.SetNs(fd, Tmds.Linux.LibC.CLONE_NEWNET) < 0) throw new InvalidOperationException($"cannot enter {name}");
                action();
            }
            catch (Exception e)
            {
                failure = e;
            }
            finally
            {
                if (fd >= 0) LibC.Close(fd);
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null) throw new InvalidOperationException($"in namespace {name}: {failure.Message}", failure);
    }
}
