using System.Buffers.Binary;
using Appliance.Bpf.Routing;
using Appliance.Config;
using Appliance.Datapath.Pairs;
using Appliance.Datapath.Runtime;

namespace Appliance.Datapath.Forwarding;

/// <summary>Who on a port's LAN claimed an address lately: a host outside, or one of the port's L2 tenants. No tenant
/// may claim what someone else claimed less than <see cref="Lifetime"/> ago (<see cref="AddressGuard"/>): a tenant that
/// said "the gateway's address is at my MAC" would take the traffic every host on the LAN sends to its gateway, and
/// one that said so of another tenant's DHCP or SLAAC address would take that tenant's.
/// <list type="bullet">
/// <item>Outside: the addresses the broadcast and multicast frames the port receives from the wire claim
/// (<see cref="FrameClaims"/>: ARP's sender, an IP source, neighbour discovery's source and target; the gateway asks for
/// its neighbours in broadcast ARP and multicast solicitations and advertises itself as a router from its link-local
/// address), recorded from every group frame by the group-frame flooder and from the ARP and neighbour discovery a
/// port receives for its tenants by the forwarding workers (<see cref="SawFrame"/>: the gateway answers and refreshes
/// its neighbours by unicast). A frame from a MAC a pair of any port owns is that tenant's (a tenant's own frame sent
/// back by a hairpinning switch, or heard on another port of the board on the same LAN), never the outside's. An
/// address an L2 tenant is configured with is not recorded (configured addresses are the tenant's whatever the outside
/// says). The outside wins over a tenant, as a MAC moves to where it was last seen.</item>
/// <item>Leases: a DHCPACK or DHCPv6 REPLY a trusted server sends a tenant binds its addresses to the tenant
/// (<see cref="SawLease"/>), over anyone's earlier claim.</item>
/// <item>Tenants: the addresses a tenant claims in ARP and neighbour discovery (not a packet's source: a tenant that
/// routes forwards other hosts' packets) and only in ARP requests and replies and neighbour discovery a host takes
/// (hop limit 255, code 0), once the frame was let out; at most <see cref="PerTenant"/> per tenant, so one tenant
/// cannot fill the table: past that, a new claim is recorded only where one of its own entries shares the slot's
/// probe window, else not at all (the address is not protected; no one is refused for it).</item>
/// </list>
/// <para>A fixed table (<see cref="Capacity"/> entries, open addressing over <see cref="Probe"/> slots from a home slot
/// hashed with a seed of its own, so nobody outside can aim at a slot) of 16-byte keys (IPv4 as <c>::ffff:a.b.c.d</c>).
/// A new address takes an empty or expired slot; failing that, the claimant's own oldest (the outside's, or that
/// tenant's): nobody pushes out someone else's live entry. Written under a lock, read by the forwarding workers without
/// one: a slot's version is odd while it is rewritten, and a reader that sees it change reads again. Nothing allocates
/// after construction but the first record of each tenant.</para></summary>
public sealed class ClaimedAddresses
{
    public const int Capacity = 4096, Probe = 8;

    /// <summary>Addresses recorded per tenant: its own and those of hosts behind it (a container host, a router).</summary>
    public const int PerTenant = 64;

    /// <summary>The owner that is a host outside.</summary>
    public const int Outside = -1;

    /// <summary>How long a claim counts after it was last heard: <see cref="OutsideMacs.Lifetime"/> (300 s).</summary>
    public static long Lifetime => OutsideMacs.Lifetime;

    private static readonly long Refresh = System.Diagnostics.Stopwatch.Frequency; // a tenant's own entry: once a second

    private readonly ulong[] _high = new ulong[Capacity], _low = new ulong[Capacity]; // 0, 0: empty
    private readonly long[] _seen = new long[Capacity];
    private readonly int[] _owner = new int[Capacity];
    private readonly int[] _version = new int[Capacity];
    private readonly ulong _seed = (ulong)Random.Shared.NextInt64();
    private readonly Dictionary<int, (int Count, long Swept)> _tenants = [];
    private readonly Lock _write = new();

    /// <summary>The sender of <paramref name="frame"/>, which a port received from its wire: the pair of any port that
    /// owns its source MAC (a tenant's own frame sent back by a hairpinning switch, or from another port of the board on
    /// the same LAN), else <see cref="Outside"/>. Asked before a learned MAC moves outside.</summary>
    public static int SenderOf(ReadOnlySpan<byte> frame, RuntimeTopology topology)
    {
        if (frame.Length < 14) return Outside;
        var source = MacAddress.Read(frame[6..]);
        foreach (var port in topology.Ports)
            if (port.Classifier.TryOwner(source, out int pair)) return pair;
        return Outside;
    }

    /// <summary>Whether <paramref name="frame"/>, which a port received from its wire for one of its tenants (unicast),
    /// may claim an address: ARP, or IPv6 neighbour discovery (133–137). A few compares, so every frame to a tenant can
    /// ask; group frames are all read (<see cref="SawFrame"/>).</summary>
    public static bool MayClaim(ReadOnlySpan<byte> frame)
    {
        int at = L3Frames.PastTags(frame, out ushort type);
        if (at < 0) return false;
        if (type == L3Frames.EtherTypeArp) return true;
        // Neighbour discovery behind extension headers is left to the group frames (solicitations are multicast); a
        // DHCPv6 server's answer to a client (UDP 547 → 546) may bind its leases to the tenant.
        if (type == L3Frames.EtherTypeIpv6)
            return frame.Length >= at + 41 && frame[at + 6] == L3Frames.IcmpV6 && frame[at + 40] is >= 133 and <= 137
                || frame.Length >= at + 44 && frame[at + 6] == L3Frames.Udp
                   && BinaryPrimitives.ReadUInt32BigEndian(frame[(at + 40)..]) == (uint)(Dhcp6ServerPort << 16 | Dhcp6ClientPort);
        // A DHCP server's answer to a client (UDP 67 → 68): a lease binds its address to the tenant.
        if (type != L3Frames.EtherTypeIpv4 || frame.Length < at + 20 || frame[at + 9] != L3Frames.Udp) return false;
        int udp = at + (frame[at] & 0x0f) * 4;
        return frame.Length >= udp + 4 && BinaryPrimitives.ReadUInt32BigEndian(frame[udp..]) == (uint)(DhcpServerPort << 16 | DhcpClientPort);
    }

    private const int DhcpServerPort = 67, DhcpClientPort = 68, DhcpMessageType = 53, DhcpAck = 5;
    private const int Dhcp6ServerPort = 547, Dhcp6ClientPort = 546, Dhcp6Reply = 7, IaNa = 3, IaTa = 4, IaAddress = 5;

    /// <summary>The addresses a DHCPv6 REPLY (UDP 547 → 546, message type 7) leases, with a valid lifetime above 0, in
    /// its IA_NA and IA_TA options' IA Address options (RFC 8415 §21.4–21.6), copied 16 bytes each into
    /// <paramref name="leases"/> (as many as fit); the client is the frame's Ethernet destination (the REPLY goes to the
    /// client's link-local address). Returns how many.</summary>
    public static int Dhcp6Leases(ReadOnlySpan<byte> frame, Span<byte> leases, out MacAddress client)
    {
        client = frame.Length >= 6 ? MacAddress.Read(frame) : default;
        int at = L3Frames.PastTags(frame, out ushort type);
        if (at < 0 || type != L3Frames.EtherTypeIpv6) return 0;
        var ip = frame[at..];
        if (ip.Length < 40 || ip[0] >> 4 != 6) return 0;
        int end = Math.Min(ip.Length, 40 + BinaryPrimitives.ReadUInt16BigEndian(ip[4..]));
        if (!L3Frames.Ipv6UpperLayer(ip, end, out byte next, out int u, out bool fragment) || fragment || next != L3Frames.Udp || end - u < 8 + 4)
            return 0;
        var udp = ip[u..end];
        if (BinaryPrimitives.ReadUInt16BigEndian(udp) != Dhcp6ServerPort || BinaryPrimitives.ReadUInt16BigEndian(udp[2..]) != Dhcp6ClientPort)
            return 0;
        var message = udp[8..];
        if (message[0] != Dhcp6Reply) return 0;
        int count = 0;
        for (var options = message[4..]; options.Length >= 4;)
        {
            int code = BinaryPrimitives.ReadUInt16BigEndian(options), length = BinaryPrimitives.ReadUInt16BigEndian(options[2..]);
            if (4 + length > options.Length) break;
            var body = options.Slice(4, length);
            int first = code == IaNa ? 12 : code == IaTa ? 4 : -1; // IAID, T1, T2 / IAID
            if (first >= 0 && body.Length >= first)
                for (var sub = body[first..]; sub.Length >= 4;)
                {
                    int subCode = BinaryPrimitives.ReadUInt16BigEndian(sub), subLength = BinaryPrimitives.ReadUInt16BigEndian(sub[2..]);
                    if (4 + subLength > sub.Length) break;
                    if (subCode == IaAddress && subLength >= 24 && BinaryPrimitives.ReadUInt32BigEndian(sub[(4 + 20)..]) != 0
                        && (count + 1) * 16 <= leases.Length)
                        sub.Slice(4, 16).CopyTo(leases[(count++ * 16)..]);
                    sub = sub[(4 + subLength)..];
                }
            options = options[(4 + length)..];
        }
        return count;
    }

    /// <summary>Whether <paramref name="frame"/> is a DHCPv4 DHCPACK (a BOOTREPLY from UDP port 67 to 68 whose message
    /// type option is 5): the client's hardware address and the address leased to it (yiaddr, RFC 2131 §2, §4.3.1).</summary>
    public static bool IsDhcpAck(ReadOnlySpan<byte> frame, out MacAddress client, out ReadOnlySpan<byte> leased)
    {
        client = default;
        leased = default;
        int at = L3Frames.PastTags(frame, out ushort type);
        if (at < 0 || type != L3Frames.EtherTypeIpv4) return false;
        var ip = frame[at..];
        if (ip.Length < 20 || ip[0] >> 4 != 4 || (ip[0] & 0x0f) < 5) return false;
        int end = Math.Min(ip.Length, BinaryPrimitives.ReadUInt16BigEndian(ip[2..]));
        if (end < (ip[0] & 0x0f) * 4 || !L3Frames.Ipv4UpperLayer(ip, end, out byte next, out int u, out bool fragment)
            || fragment || next != L3Frames.Udp || end - u < 8 + 240)
            return false;
        var udp = ip[u..end];
        if (BinaryPrimitives.ReadUInt16BigEndian(udp) != DhcpServerPort || BinaryPrimitives.ReadUInt16BigEndian(udp[2..]) != DhcpClientPort) return false;
        var bootp = udp[8..];
        if (bootp[0] != 2 || bootp[1] != 1 || bootp[2] != 6 || BinaryPrimitives.ReadUInt32BigEndian(bootp[236..]) != 0x6382_5363) return false;
        for (int o = 240; o < bootp.Length;)
        {
            byte code = bootp[o];
            if (code == 255) break;
            if (code == 0)
            {
                o++;
                continue;
            }
            if (o + 2 > bootp.Length) break;
            int length = bootp[o + 1];
            if (o + 2 + length > bootp.Length) break;
            if (code == DhcpMessageType && length == 1)
            {
                if (bootp[o + 2] != DhcpAck || BinaryPrimitives.ReadUInt32BigEndian(bootp[16..]) == 0) return false;
                client = MacAddress.Read(bootp[28..]);
                leased = bootp.Slice(16, 4);
                return true;
            }
            o += 2 + length;
        }
        return false;
    }

    /// <summary>Records the addresses <paramref name="frame"/>, which the port received from its wire at
    /// <paramref name="now"/> (Stopwatch ticks), claims: every claim as the outside's when <paramref name="sender"/> is
    /// <see cref="Outside"/>; when it is a tenant's (<see cref="SenderOf"/>), its neighbour claims as that tenant's, by
    /// a tenant's rules (the frame went out of a port of the board and came back in). An L2 tenant's configured address
    /// is never recorded.</summary>
    public void SawFrame(ReadOnlySpan<byte> frame, int sender, RuntimeTopology topology, long now)
    {
        var recorder = new Recorder(this, sender, topology, now);
        FrameClaims.Read(frame, ref recorder);
    }

    /// <summary>DHCP snooping's binding: <paramref name="frame"/>, which a port whose pairs <paramref name="tenants"/>
    /// classifies received from <paramref name="sender"/>, is a DHCPACK or a DHCPv6 REPLY from a server the tenants trust
    /// (one outside, or a tenant that serves DHCP) leasing addresses to a MAC one of its pairs owns (DHCPv4's chaddr,
    /// DHCPv6's Ethernet destination): the address is that tenant's,
    /// whoever claimed it before (a tenant that took it first from a pool cannot keep it from the tenant it is leased to).
    /// An address an L2 tenant is configured with stays its own.</summary>
    public void SawLease(ReadOnlySpan<byte> frame, int sender, Pairs.L2Classifier tenants, RuntimeTopology topology, long now)
    {
        if (sender != Outside && !((uint)sender < (uint)topology.EnginePortCount && topology.PairByEnginePort[sender] is { ServesDhcp: true }))
            return;
        if (IsDhcpAck(frame, out var client, out var leased))
        {
            if (tenants.TryOwner(client, out int pair) && topology.L2Addresses.Lookup(IpFamily.Inet, leased) is null)
                Saw(pair, IpFamily.Inet, leased, now, bound: true);
            return;
        }
        Span<byte> leases = stackalloc byte[16 * 8];
        int count = Dhcp6Leases(frame, leases, out client);
        if (count == 0 || !tenants.TryOwner(client, out int owner)) return;
        for (int i = 0; i < count; i++)
        {
            var address = leases.Slice(16 * i, 16);
            if (topology.L2Addresses.Lookup(IpFamily.Inet6, address) is null) Saw(owner, IpFamily.Inet6, address, now, bound: true);
        }
    }

    /// <summary>Who claimed <paramref name="address"/> less than <see cref="Lifetime"/> before <paramref name="now"/>:
    /// <see cref="Outside"/> or a pair's index. False when nobody did.</summary>
    public bool TryOwner(IpFamily family, ReadOnlySpan<byte> address, long now, out int owner) =>
        TryFind(family, address, now, out owner, out _);

    /// <summary>Records that <paramref name="owner"/> (<see cref="Outside"/> or a pair's index) claimed
    /// <paramref name="address"/> at <paramref name="now"/>. A tenant's claim of what someone else holds is not taken
    /// (the guard refused it); the outside's is.</summary>
    public void Saw(int owner, IpFamily family, ReadOnlySpan<byte> address, long now) => Saw(owner, family, address, now, bound: false);

    /// <summary><see cref="Saw(int, IpFamily, ReadOnlySpan{byte}, long)"/>; <paramref name="bound"/>: a DHCP server
    /// leased the address to tenant <paramref name="owner"/>, which takes it whoever claimed it first and whatever its
    /// share.</summary>
    private void Saw(int owner, IpFamily family, ReadOnlySpan<byte> address, long now, bool bound)
    {
        if (!Key(family, address, out ulong high, out ulong low)) return;
        // An entry of the same owner refreshed lately: nothing to write (a busy LAN's or tenant's ARP and ND take no lock).
        if (TryFind(family, address, now, out int current, out long seen) && current == owner && now - seen < Refresh)
            return;
        int home = Home(high, low);
        lock (_write)
        {
            int free = -1, oldestOwn = -1;
            long oldestOwnSeen = long.MaxValue;
            for (int i = 0; i < Probe; i++)
            {
                int s = (home + i) & (Capacity - 1);
                bool empty = (_high[s] | _low[s]) == 0, expired = !empty && now - _seen[s] >= Lifetime;
                if (!empty && _high[s] == high && _low[s] == low)
                {
                    if (_owner[s] == owner) Volatile.Write(ref _seen[s], now);
                    else if (owner == Outside || bound || expired && !AtLimit(owner, now)) Write(s, high, low, owner, now);
                    return;
                }
                if (empty || expired)
                {
                    if (free < 0) free = s;
                }
                else if (_owner[s] == owner && _seen[s] < oldestOwnSeen)
                {
                    oldestOwnSeen = _seen[s];
                    oldestOwn = s;
                }
            }
            if (owner != Outside && !bound && AtLimit(owner, now)) free = -1; // only its own oldest makes room
            int slot = free >= 0 ? free : oldestOwn;
            if (slot >= 0) Write(slot, high, low, owner, now);
        }
    }

    /// <summary>Forgets the addresses of the tenants <paramref name="leaves"/> says no longer send on this port (a
    /// reload removed them or moved them to another uplink).</summary>
    public void Forget(Func<int, bool> leaves)
    {
        lock (_write)
        {
            for (int s = 0; s < Capacity; s++)
                if ((_high[s] | _low[s]) != 0 && _owner[s] != Outside && leaves(_owner[s])) Write(s, 0, 0, 0, 0);
            foreach (int pair in _tenants.Keys.Where(leaves).ToList()) _tenants.Remove(pair);
        }
    }

    /// <summary>Whether tenant <paramref name="pair"/> holds <see cref="PerTenant"/> live entries. At the limit, its
    /// expired entries are cleared first (a whole-table pass, at most once a second per tenant).</summary>
    private bool AtLimit(int pair, long now)
    {
        var (count, swept) = _tenants.GetValueOrDefault(pair);
        if (count < PerTenant) return false;
        if (now - swept < Refresh) return true;
        for (int s = 0; s < Capacity; s++)
            if ((_high[s] | _low[s]) != 0 && _owner[s] == pair && now - _seen[s] >= Lifetime) Write(s, 0, 0, 0, 0);
        (count, _) = _tenants.GetValueOrDefault(pair);
        _tenants[pair] = (count, now);
        return count >= PerTenant;
    }

    /// <summary>Rewrites slot <paramref name="s"/> (under the lock), keeping the tenants' counts.</summary>
    private void Write(int s, ulong high, ulong low, int owner, long now)
    {
        if ((_high[s] | _low[s]) != 0 && _owner[s] != Outside) Count(_owner[s], -1);
        Interlocked.Increment(ref _version[s]); // odd: a reader reading it now reads again
        _high[s] = high;
        _low[s] = low;
        _owner[s] = owner;
        _seen[s] = now;
        Interlocked.Increment(ref _version[s]);
        if ((high | low) != 0 && owner != Outside) Count(owner, +1);
    }

    private void Count(int pair, int delta)
    {
        var (count, swept) = _tenants.GetValueOrDefault(pair);
        _tenants[pair] = (count + delta, swept);
    }

    private bool TryFind(IpFamily family, ReadOnlySpan<byte> address, long now, out int owner, out long seen)
    {
        owner = 0;
        seen = 0;
        if (!Key(family, address, out ulong high, out ulong low)) return false;
        int home = Home(high, low);
        for (int i = 0; i < Probe; i++)
        {
            int s = (home + i) & (Capacity - 1);
            for (int attempt = 0; attempt < 8; attempt++)
            {
                int version = Volatile.Read(ref _version[s]);
                ulong h = Volatile.Read(ref _high[s]), l = Volatile.Read(ref _low[s]);
                int o = Volatile.Read(ref _owner[s]);
                long t = Volatile.Read(ref _seen[s]);
                if ((version & 1) != 0 || Volatile.Read(ref _version[s]) != version) continue; // being rewritten
                if (h != high || l != low) break;
                owner = o;
                seen = t;
                return now - t < Lifetime;
            }
        }
        return false;
    }

    private static bool Key(IpFamily family, ReadOnlySpan<byte> address, out ulong high, out ulong low)
    {
        if (family == IpFamily.Inet && address.Length >= 4)
        {
            high = 0;
            low = 0xFFFF_0000_0000UL | BinaryPrimitives.ReadUInt32BigEndian(address);
        }
        else if (family == IpFamily.Inet6 && address.Length >= 16)
        {
            high = BinaryPrimitives.ReadUInt64BigEndian(address);
            low = BinaryPrimitives.ReadUInt64BigEndian(address[8..]);
        }
        else
        {
            high = low = 0;
        }
        return (high | low) != 0;
    }

    private int Home(ulong high, ulong low) => (int)((((high * 31) ^ low ^ _seed) * 0x9E37_79B9_7F4A_7C15UL) >> 52); // 12 bits

    /// <summary>Records what a frame from the wire claims (above); never refuses.</summary>
    private readonly struct Recorder(ClaimedAddresses table, int sender, RuntimeTopology topology, long now) : IClaimJudge
    {
        public bool Address(IpFamily family, ReadOnlySpan<byte> address, ClaimKind kind)
        {
            if ((sender == Outside || kind == ClaimKind.Neighbour) && topology.L2Addresses.Lookup(family, address) is null)
                table.Saw(sender, family, address, now);
            return false;
        }

        public bool LinkLayer(MacAddress mac) => false;
    }
}
