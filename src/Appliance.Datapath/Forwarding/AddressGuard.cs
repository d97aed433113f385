using Appliance.Bpf.Routing;
using Appliance.Config;
using Appliance.Datapath.Routing;
using Appliance.Datapath.Runtime;

namespace Appliance.Datapath.Forwarding;

/// <summary>What an L2 tenant may claim as its own, checked on what its peer side passes to the uplink (a switch's IP
/// source guard, dynamic ARP inspection and ND inspection on a host port). Hosts on the uplink take a tenant's word for
/// who has an address (<see cref="FrameClaims"/>): so a tenant that says "the board's address is at my MAC" takes the
/// board's management traffic from every host that believes it, one that says so of another tenant's address takes
/// that tenant's, and one that says so of the LAN's gateway takes the whole LAN's traffic to it; one that sends from
/// another tenant's address has the answers (a reflection, an amplified DNS reply) sent to that tenant. Refused (the
/// caller drops the frame and counts it <see cref="PairDropReason.InvalidSource"/> on the pair's peer side):
/// <list type="bullet">
/// <item>a claimed address that is someone else's: one of the board's own (a local route of its local table, every
/// interface's), one another L2 tenant is configured with (<see cref="RuntimeTopology.L2Addresses"/>), one in the
/// prefixes the uplink routes to its L3 tenants (the board answers ARP/ND for those there), or one a host outside or
/// another tenant claimed lately on the port it goes out of (<see cref="ClaimedAddresses"/>: the gateway asks for its
/// neighbours in broadcast ARP and multicast neighbour solicitations and advertises itself as a router; a tenant with a
/// DHCP lease or a SLAAC address says so in its ARP and neighbour discovery);</item>
/// <item>a link-layer address the tenant may not send from: ARP's sender hardware address, the source / target
/// link-layer address options of neighbour discovery and a DHCP client message's client hardware address must be MACs
/// the pair owns on its uplink (its configured one or one it learned, <see cref="Pairs.L2Classifier.Owns"/>), as its
/// frames' source MACs must be (DHCP snooping's MAC check: a tenant naming made-up clients would lease the LAN's pool
/// dry, one naming another tenant's MAC would release its lease);</item>
/// <item>a DHCP client message naming a client identity beyond the tenant's share (<see cref="DhcpClientIds"/>: a new
/// identifier each time would lease the LAN's pool dry), judged last, from the message <see cref="FrameClaims"/> found
/// (the frame's headers are read once);</item>
/// <item>a frame that hides what it claims (<see cref="FrameClaims"/>: neighbour discovery in a fragment, a DHCP client
/// message's first fragment).</item>
/// </list>
/// The tenant's own configured addresses are its own whatever else says so. Addresses nobody claimed on the port
/// lately are not judged. What a program redirects out of a port, or into another pair (as if sent on that pair's
/// uplink), is judged as what the peer side passes (<see cref="TenantGuard"/>). Reads only
/// immutable snapshots and lock-free tables (a tenant's new claim takes the port's table lock); nothing
/// allocates.</summary>
public sealed class AddressGuard(IFibTables? tables)
{
    /// <summary>What this guard (one forwarding worker's) last found free to send from, per tenant and family: a host
    /// sends nearly every packet from one address, and its source need not be looked up four times per packet (L2
    /// tenants' addresses, the L3 prefixes, the board's local routes, the claims) while none of those changed: an
    /// entry holds only while the topology, the ports' L3 prefixes, the routes' snapshot and the port's claims
    /// generation are the ones it was found under. Only free sources are kept: a refusal is looked up again.</summary>
    private readonly FreeSource[] _free = new FreeSource[64];

    /// <summary>Whether <paramref name="frame"/>, which L2 pair <paramref name="pair"/>'s peer side sends out of
    /// board port <paramref name="port"/> (its <paramref name="uplink"/>, another port a program redirected it to, or
    /// the uplink of the pair a program redirected it into),
    /// claims an address or a link-layer address that is not the tenant's to claim. A frame let out has its ARP and
    /// neighbour discovery claims recorded as the tenant's on that port (<see cref="ClaimedAddresses"/>).</summary>
    public bool Refuses(ReadOnlySpan<byte> frame, PairRuntime pair, PortRuntime uplink, PortRuntime port, RuntimeTopology topology)
    {
        var judge = new Judge(tables, _free, pair, uplink, port, topology);
        if (FrameClaims.Read(frame, ref judge)) return true;
        judge.RecordClaims();
        return false;
    }

    /// <summary>The sender, where its frame goes out, what is someone else's there, and the tenant's neighbour claims
    /// to record once the frame is let out (ARP names one address, neighbour discovery at most two).</summary>
    private struct Judge(IFibTables? tables, FreeSource[] free, PairRuntime pair, PortRuntime uplink, PortRuntime port, RuntimeTopology topology)
        : IClaimJudge
    {
        private readonly long _now = port.Classifier.Now;
        private ClaimedAddresses.AddressKey _first, _second; // default: none

        public readonly bool LinkLayer(MacAddress mac) => !uplink.Classifier.Owns(pair.Index, mac);

        public readonly bool DhcpClient(in DhcpClientMessage message) => pair.DhcpClients.Refuses(message, uplink.Classifier.Now);

        /// <summary>Whether <paramref name="address"/> is someone else's than the sending tenant's: another L2 tenant's
        /// configured address, in one of the L3 tenants' prefixes of its uplink or of the port it goes out of, the
        /// board's own, or one a host outside or another tenant claimed lately on the port it goes out of. The tenant's
        /// own configured address is its own even where it falls in one of those.</summary>
        public bool Address(IpFamily family, ReadOnlySpan<byte> address, ClaimKind kind)
        {
            if (kind != ClaimKind.Source || !ClaimedAddresses.AddressKey.TryOf(family, address, out var key)) return SomeoneElses(family, address, kind);
            // A packet's source: kept while nothing it was judged by changed (read before judging: a change meanwhile
            // leaves the entry stale, never wrong).
            var routes = tables?.RoutesVersion;
            long claims = port.ClaimedAddresses.Generation;
            ref var last = ref free[(pair.Index * 2 + (family == IpFamily.Inet6 ? 1 : 0)) & (free.Length - 1)];
            if (last.Key == key && ReferenceEquals(last.Pair, pair) && ReferenceEquals(last.Port, port) && last.Claims == claims
                && ReferenceEquals(last.Topology, topology) && ReferenceEquals(last.Routes, routes)
                && ReferenceEquals(last.UplinkPrefixes, uplink.L3Prefixes) && ReferenceEquals(last.PortPrefixes, port.L3Prefixes))
                return false;
            if (SomeoneElses(family, address, kind)) return true;
            if (routes is not null || tables is null)
                last = new FreeSource(key, pair, port, claims, topology, routes, uplink.L3Prefixes, port.L3Prefixes);
            return false;
        }

        private bool SomeoneElses(IpFamily family, ReadOnlySpan<byte> address, ClaimKind kind)
        {
            if (topology.L2Addresses.Lookup(family, address) is { } configured) return !ReferenceEquals(configured, pair);
            if (uplink.L3Prefixes.Lookup(family, address) is not null
                || (!ReferenceEquals(port, uplink) && port.L3Prefixes.Lookup(family, address) is not null)
                || BoardAddresses.IsLocal(tables, family, address)
                || (port.ClaimedAddresses.TryOwner(family, address, _now, out int owner) && owner != pair.Index))
                return true;
            if (kind == ClaimKind.Neighbour && ClaimedAddresses.AddressKey.TryOf(family, address, out var key))
            {
                if (_first == default) _first = key;
                else _second = key;
            }
            return false;
        }

        public readonly void RecordClaims()
        {
            if (_first != default) port.ClaimedAddresses.Saw(pair.Index, _first, _now);
            if (_second != default) port.ClaimedAddresses.Saw(pair.Index, _second, _now);
        }
    }

    private readonly record struct FreeSource(ClaimedAddresses.AddressKey Key, PairRuntime? Pair, PortRuntime? Port, long Claims,
        RuntimeTopology? Topology, object? Routes, PrefixTable<PairRuntime>? UplinkPrefixes, PrefixTable<PairRuntime>? PortPrefixes);
}
