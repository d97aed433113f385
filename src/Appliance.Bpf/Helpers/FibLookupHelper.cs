using System.Buffers.Binary;
using Appliance.Bpf.Routing;
using Appliance.Bpf.Vm;

namespace Appliance.Bpf.Helpers;

/// <summary>bpf_fib_lookup (69), tc form (bpf_skb_fib_lookup in net/core/filter.c), over
/// <see cref="BpfVmOptions.FibTables"/>. It reads and writes the kernel's 64-byte struct bpf_fib_lookup and answers
/// as the kernel does:
/// <list type="bullet">
/// <item>-EINVAL for plen below 64 or flag bits the kernel does not know; -EAFNOSUPPORT for a family other than
/// AF_INET / AF_INET6; -ENODEV when params->ifindex is no interface (IPv6 first answers NOT_FWDED for a link-local,
/// multicast or loopback source or destination).</item>
/// <item>FWD_DISABLED when the input interface does not forward that family; DIRECT looks in table main only, and
/// with TBID in params->tbid (zeroed after); a missing table, no route, local, broadcast, multicast or throw routes
/// are NOT_FWDED; blackhole, unreachable and prohibit routes give their own codes. OUTPUT makes params->ifindex the
/// output interface: IPv4 (flowi4_oif) passes over routes through other interfaces for the next by metric and then
/// shorter prefixes (<see cref="IFibTables.TryLookupRoute(IpFamily, ReadOnlySpan{byte}, uint, int, out FibRoute)"/>);
/// IPv6's rt6_select only prefers the interface among routes of one prefix and metric, which one modelled next hop per
/// route never meets, so IPv6 ignores it.</item>
/// <item>MTU: with tot_len set, FRAG_NEEDED when it exceeds the route's MTU (a locked route MTU, else the out
/// interface's MTU; IPv6 at least 1280), which goes to mtu_result; without, the frame must fit the out interface
/// (MTU + 14 + 4 bytes, and the interface up) and mtu_result gets its MTU.</item>
/// <item>On success: ifindex and rt_metric from the route, the gateway (if any) in ipv4_dst / ipv6_dst (an IPv6
/// gateway of an IPv4 route switches family to AF_INET6), ipv4_src / ipv6_src with SRC (IPv6: NO_SRC_ADDR without a
/// source), then unless SKIP_NEIGH the neighbour: NO_NEIGH when it is not valid, else dmac and smac (the out
/// interface's MAC); h_vlan_proto and h_vlan_TCI are zeroed.</item>
/// </list>
/// Not supported: BPF_FIB_LOOKUP_MARK (policy rules are not read; refused at load when the flags are a constant,
/// -EINVAL at run time). Lightweight tunnels and multipath are not modelled (never UNSUPP_LWT; one next hop).</summary>
internal static class FibLookupHelper
{
    public const int ParamsSize = 64;
    public const uint Direct = 1, Output = 2, SkipNeigh = 4, Tbid = 8, Src = 16, Mark = 32;
    private const uint KnownFlags = Direct | Output | SkipNeigh | Tbid | Src | Mark, Supported = KnownFlags & ~Mark;
    private const uint TableMain = 254, TableLocal = 255;
    private const int Ipv6MinMtu = 1280, IpMaxMtu = 65535, HardHeaderLength = 14, VlanHeaderLength = 4;

    /// <summary>BPF_FIB_LKUP_RET_*.</summary>
    public const ulong Success = 0, Blackhole = 1, Unreachable = 2, Prohibit = 3, NotForwarded = 4, ForwardingDisabled = 5,
        UnsupportedLwt = 6, NoNeighbour = 7, FragNeeded = 8, NoSourceAddress = 9;

    // struct bpf_fib_lookup offsets
    private const int OffFamily = 0, OffTotLen = 6, OffIfindex = 8, OffMetric = 12, OffSrc = 16, OffDst = 32, OffVlan = 48,
        OffSmac = 52, OffDmac = 58;

    /// <summary>Why constant <paramref name="flags"/> cannot load (null: they can). Unknown bits load and give
    /// -EINVAL at run time, as in the kernel.</summary>
    public static string? WhyFlagsRefused(ulong flags) =>
        ((uint)flags & Mark) != 0
            ? "flag BPF_FIB_LOOKUP_MARK is not supported: the appliance reads the routing tables, not the policy rules that select by fwmark"
            : null;

    public static HelperOutcome Invoke(BpfVm vm)
    {
        if (!vm.IsContext(vm.Argument(1))) return vm.Fail(BpfFault.HelperMisuse);
        int plen = (int)(uint)vm.Argument(3);
        if (plen < 0) return vm.Fail(BpfFault.HelperMisuse);
        if (!vm.TryGetMemory(vm.Argument(2), plen, true, out var p)) return HelperOutcome.Fault;
        uint flags = (uint)vm.Argument(4);
        if (plen < ParamsSize || (flags & ~Supported) != 0) return LinuxHelperTable.Error(vm, Errno.EINVAL);
        p = p[..ParamsSize];
        var family = (IpFamily)p[OffFamily];
        if (family is not (IpFamily.Inet or IpFamily.Inet6)) return LinuxHelperTable.Error(vm, Errno.EAFNOSUPPORT);
        ushort totLen = BinaryPrimitives.ReadUInt16LittleEndian(p[OffTotLen..]);
        long rc = Lookup(vm.Options.FibTables, p, family, flags, totLen != 0);
        if (rc == (long)Success && totLen == 0)
        {
            // bpf_skb_fib_lookup: without tot_len the frame itself must fit the out interface (is_skb_forwardable).
            vm.Options.FibTables!.TryGetInterface((int)BinaryPrimitives.ReadUInt32LittleEndian(p[OffIfindex..]), out var dev);
            if (!dev.Up || vm.Packet.Length > dev.Mtu + HardHeaderLength + VlanHeaderLength) rc = (long)FragNeeded;
            BinaryPrimitives.WriteUInt16LittleEndian(p[OffTotLen..], (ushort)dev.Mtu);
        }
        return LinuxHelperTable.Return(vm, unchecked((ulong)rc));
    }

    /// <summary>bpf_ipv4_fib_lookup / bpf_ipv6_fib_lookup: a BPF_FIB_LKUP_RET_* code, or a negative errno.</summary>
    private static long Lookup(IFibTables? tables, Span<byte> p, IpFamily family, uint flags, bool checkMtu)
    {
        bool v6 = family == IpFamily.Inet6;
        int addressLength = v6 ? 16 : 4;
        if (v6 && (NeedsStrict(p.Slice(OffDst, 16)) || NeedsStrict(p.Slice(OffSrc, 16)))) return (long)NotForwarded;
        if (tables is null || !tables.TryGetInterface((int)BinaryPrimitives.ReadUInt32LittleEndian(p[OffIfindex..]), out var input))
            return -Errno.ENODEV;
        if (!input.Forwards(family)) return (long)ForwardingDisabled;

        uint table = 0;
        if ((flags & Direct) != 0)
        {
            table = TableMain;
            if ((flags & Tbid) != 0)
            {
                table = BinaryPrimitives.ReadUInt32LittleEndian(p[OffVlan..]);
                BinaryPrimitives.WriteUInt32LittleEndian(p[OffVlan..], 0);
            }
        }
        int oif = !v6 && (flags & Output) != 0 ? (int)BinaryPrimitives.ReadUInt32LittleEndian(p[OffIfindex..]) : 0;
        if (!LookupRoute(tables, family, p.Slice(OffDst, addressLength), table, oif, out var route)) return (long)NotForwarded;
        switch (route.Kind)
        {
            case RouteKind.Unicast: break;
            case RouteKind.Blackhole: return (long)Blackhole;
            case RouteKind.Unreachable: return (long)Unreachable;
            case RouteKind.Prohibit: return (long)Prohibit;
            default: return (long)NotForwarded;
        }
        if (!tables.TryGetInterface(route.Ifindex, out var output)) return (long)NotForwarded;

        uint mtu = 0;
        if (checkMtu)
        {
            mtu = route.MtuLocked && route.Mtu != 0 ? route.Mtu
                : v6 ? (uint)Math.Min(Math.Max(Ipv6MinMtu, output.Mtu), IpMaxMtu)
                : (uint)Math.Min(output.Mtu, IpMaxMtu);
            if (BinaryPrimitives.ReadUInt16LittleEndian(p[OffTotLen..]) > mtu)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(p[OffTotLen..], (ushort)mtu);
                return (long)FragNeeded;
            }
        }

        BinaryPrimitives.WriteUInt32LittleEndian(p[OffMetric..], route.Metric);
        BinaryPrimitives.WriteUInt32LittleEndian(p[OffIfindex..], (uint)route.Ifindex);
        if ((flags & Src) != 0)
        {
            var source = p.Slice(OffSrc, addressLength);
            if (route.SourceFamily == family) ((ReadOnlySpan<byte>)route.Source)[..addressLength].CopyTo(source);
            else if (v6) return (long)NoSourceAddress;
            else source.Clear(); // fib_result_prefsrc finds no address: 0.0.0.0
        }

        var nextHopFamily = family;
        if (route.GatewayFamily == IpFamily.Inet6)
        {
            nextHopFamily = IpFamily.Inet6;
            p[OffFamily] = (byte)IpFamily.Inet6;
            ((ReadOnlySpan<byte>)route.Gateway).CopyTo(p.Slice(OffDst, 16));
        }
        else if (route.GatewayFamily == IpFamily.Inet)
        {
            ((ReadOnlySpan<byte>)route.Gateway)[..4].CopyTo(p.Slice(OffDst, 4));
        }

        if ((flags & SkipNeigh) == 0)
        {
            Span<byte> mac = stackalloc byte[6];
            if (!tables.TryLookupNeighbour(nextHopFamily, route.Ifindex, p.Slice(OffDst, IpFamilies.AddressLength(nextHopFamily)), mac))
                return (long)NoNeighbour;
            mac.CopyTo(p.Slice(OffDmac, 6));
            ((ReadOnlySpan<byte>)output.Mac).CopyTo(p.Slice(OffSmac, 6));
        }
        BinaryPrimitives.WriteUInt32LittleEndian(p[OffVlan..], 0);
        if (mtu != 0) BinaryPrimitives.WriteUInt16LittleEndian(p[OffTotLen..], (ushort)mtu);
        return (long)Success;
    }

    /// <summary>The route for <paramref name="table"/> (0: the full lookup). IPv4's local and main tables are one trie in
    /// the kernel while no policy rules exist (fib_new_table aliases them), so a direct lookup in either sees the
    /// local routes first.</summary>
    private static bool LookupRoute(IFibTables tables, IpFamily family, ReadOnlySpan<byte> destination, uint table, int oif,
        out FibRoute route)
    {
        if (family == IpFamily.Inet && table is TableMain or TableLocal
            && tables.TryLookupRoute(family, destination, TableLocal, oif, out route) && route.Kind != RouteKind.Unspec)
            return true;
        return tables.TryLookupRoute(family, destination, table, oif, out route);
    }

    /// <summary>rt6_need_strict: multicast (ff00::/8), link-local (fe80::/10) or loopback (::1).</summary>
    private static bool NeedsStrict(ReadOnlySpan<byte> a) =>
        a[0] == 0xff || a[0] == 0xfe && (a[1] & 0xc0) == 0x80
        || a[..15].IndexOfAnyExcept((byte)0) < 0 && a[15] == 1;
}
