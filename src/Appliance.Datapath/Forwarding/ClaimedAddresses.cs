using System.Buffers.Binary;
using System.Runtime.CompilerServices;
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
/// port receives for its tenants by the forwarding workers (<see cref="HeardFromWire"/>: the gateway answers and refreshes
/// its neighbours by unicast). A frame from a MAC a pair of any port owns is that tenant's (a tenant's own frame sent
/// back by a hairpinning switch, or heard on another port of the board on the same LAN), never the outside's. An
/// address an L2 tenant is configured with is not recorded (configured addresses are the tenant's whatever the outside
/// says). The outside wins over a tenant, as a MAC moves to where it was last seen.</item>
/// <item>Leases: a DHCPACK or DHCPv6 REPLY a trusted server sends a tenant binds its addresses to the tenant
/// (<see cref="HeardFromWire"/>), over anyone's earlier claim.</item>
/// <item>Tenants: the addresses a tenant claims in ARP and neighbour discovery (not a packet's source: a tenant that
/// routes forwards other hosts' packets) and only in ARP requests and replies and neighbour discovery a host takes
/// (hop limit 255, code 0), once the frame was let out; at most <see cref="PerTenant"/> per tenant, so one tenant
/// cannot fill the table: past that, a new claim is recorded only where one of its own entries shares the slot's
/// probe window, else not at all (the address is not protected; no one is refused for it).</item>
/// </list>
/// <para>A fixed table (<see cref="Capacity"/> entries, open addressing over <see cref="Probe"/> slots from a home slot
/// hashed with a seed of its own, so nobody outside can aim at a slot) of 16-byte keys (IPv4 as <c>::ffff:a.b.c.d</c>).
/// A new address takes the first empty or expired slot of its window; failing that, the claimant's own oldest (the
/// outside's, or that tenant's): nobody pushes out someone else's live entry. A tenant at its share gives up its own
/// oldest in the window and still takes the first free slot, so a lookup that misses stops at the first slot that
/// never held an address (an address is never recorded past one): in a sparse table a miss costs one probe, not
/// <see cref="Probe"/>. Written under a lock, read by the forwarding workers without
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
    /// <summary>When the slot's address was last heard; for an empty slot, 0 when it never held one, <see cref="Emptied"/>
    /// once it did. A lookup stops at the first slot that never held one (a new address takes the first empty or expired
    /// slot of its window, so none lies beyond it) and probes past the emptied ones.</summary>
    private readonly long[] _seen = new long[Capacity];
    private const long Emptied = -1;
    private readonly int[] _owner = new int[Capacity];
    private readonly int[] _version = new int[Capacity];
    private readonly ulong _seed = (ulong)Random.Shared.NextInt64();
    private readonly Dictionary<int, (int Count, long Swept)> _tenants = [];
    private readonly Lock _write = new();

    /// <summary>Changes whenever an address gets an owner it did not have (a new claim, a claim taken over, one heard
    /// again after it expired, a lease bound): who may send from an address can change only then, so what a worker
    /// concluded about an address stays true while this stays the same. Read without the lock.</summary>
    public long Generation => Volatile.Read(ref _generation);
    private long _generation;

    /// <summary>The sender of <paramref name="frame"/>, which a port received from its wire: the pair of any port that
    /// owns its source MAC (a tenant's own frame sent back by a hairpinning switch, or from another port of the board on
    /// the same LAN), else <see cref="Outside"/>. Asked before a learned MAC moves outside.</summary>
    public static int SenderOf(ReadOnlySpan<byte> frame, RuntimeTopology topology)
    {
        return frame.Length >= 14 && topology.TryMacOwner(MacAddress.Read(frame[6..]), out int pair) ? pair : Outside;
    }

    /// <summary>Whether <paramref name="frame"/>, which a port received from its wire for one of its tenants (unicast),
    /// may claim an address: ARP, IPv6 neighbour discovery (133–137) behind any extension headers (as
    /// <see cref="FrameClaims"/> reads it: the gateway's unicast answers are as much a claim as its multicast ones; in
    /// a fragment, its source is read and its neighbour claims refused, RFC 6980), or a DHCP server's answer to a
    /// client. A few compares, so every frame to a tenant can ask; group frames are all read (<see cref="HeardFromWire"/>).
    /// Inlined into the forwarding path: an untagged IPv4 frame, the common case, is answered here without a call.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool MayClaim(ReadOnlySpan<byte> frame) =>
        frame.Length >= 14 && BinaryPrimitives.ReadUInt16BigEndian(frame[12..]) == L3Frames.EtherTypeIpv4
            ? DhcpServerAnswerV4(frame, 14)
            : MayClaimPastTags(frame);

    /// <summary><see cref="MayClaim"/> for any frame: its VLAN tags walked.</summary>
    private static bool MayClaimPastTags(ReadOnlySpan<byte> frame)
    {
        int at = L3Frames.PastTags(frame, out ushort type);
        if (at < 0) return false;
        if (type == L3Frames.EtherTypeArp) return true;
        if (type == L3Frames.EtherTypeIpv6)
        {
            var ip = frame[at..];
            if (ip.Length < 40 || ip[0] >> 4 != 6) return false;
            int end = Math.Min(ip.Length, 40 + BinaryPrimitives.ReadUInt16BigEndian(ip[4..]));
            // A later fragment carries no upper-layer header, and headers that run past the packet hide it: not read.
            if (!L3Frames.Ipv6UpperLayer(ip, end, out byte next, out int upper, out _)) return false;
            // Neighbour discovery; a DHCPv6 server's answer to a client (UDP 547 → 546) may bind its leases to the tenant.
            return next == L3Frames.IcmpV6 && upper < end && ip[upper] is >= 133 and <= 137
                || next == L3Frames.Udp && upper + 4 <= end
                   && BinaryPrimitives.ReadUInt32BigEndian(ip[upper..]) == (uint)(DhcpMessages.ServerPortV6 << 16 | DhcpMessages.ClientPortV6);
        }
        return type == L3Frames.EtherTypeIpv4 && DhcpServerAnswerV4(frame, at);
    }

    /// <summary>Whether the IPv4 packet at <paramref name="at"/> is a DHCP server's answer to a client (UDP 67 → 68):
    /// a lease binds its address to the tenant.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool DhcpServerAnswerV4(ReadOnlySpan<byte> frame, int at)
    {
        if (frame.Length < at + 20 || frame[at + 9] != L3Frames.Udp) return false;
        int udp = at + (frame[at] & 0x0f) * 4;
        return frame.Length >= udp + 4 && BinaryPrimitives.ReadUInt32BigEndian(frame[udp..]) == (uint)(DhcpMessages.ServerPortV4 << 16 | DhcpMessages.ClientPortV4);
    }

    /// <summary>What <paramref name="frame"/>, which a port whose pairs <paramref name="tenants"/> classifies received
    /// from its wire at <paramref name="now"/> (Stopwatch ticks) from <paramref name="sender"/> (<see cref="SenderOf"/>),
    /// tells about who has an address:
    /// <list type="bullet">
    /// <item>its claims (<see cref="FrameClaims"/>): every claim as the outside's when the sender is
    /// <see cref="Outside"/>; when it is a tenant's, its neighbour claims as that tenant's, by a tenant's rules (the frame
    /// went out of a port of the board and came back in);</item>
    /// <item>DHCP snooping's binding: a DHCPACK or DHCPv6 REPLY (<see cref="DhcpMessages"/>) from a server the tenants
    /// trust (one outside, or a tenant that serves DHCP) leasing addresses to a MAC one of the pairs owns binds them to
    /// that tenant, whoever claimed them before (a tenant that took one first from a pool cannot keep it from the tenant
    /// it is leased to).</item>
    /// </list>
    /// An L2 tenant's configured address is never recorded: it stays its own.</summary>
    public void HeardFromWire(ReadOnlySpan<byte> frame, int sender, Pairs.L2Classifier tenants, RuntimeTopology topology, long now)
    {
        var recorder = new Recorder(this, sender, topology, now);
        FrameClaims.Read(frame, ref recorder);
        if (sender != Outside && !((uint)sender < (uint)topology.EnginePortCount && topology.PairByEnginePort[sender] is { ServesDhcp: true }))
            return;
        if (DhcpMessages.IsAck(frame, out var client, out var leased))
        {
            if (tenants.TryOwner(client, out int pair) && topology.L2Addresses.Lookup(IpFamily.Inet, leased) is null
                && AddressKey.TryOf(IpFamily.Inet, leased, out var key))
                Saw(pair, key, now, bound: true);
            return;
        }
        Span<byte> leases = stackalloc byte[16 * 8];
        int count = DhcpMessages.V6Leases(frame, leases, out client);
        if (count == 0 || !tenants.TryOwner(client, out int owner)) return;
        for (int i = 0; i < count; i++)
        {
            var address = leases.Slice(16 * i, 16);
            if (topology.L2Addresses.Lookup(IpFamily.Inet6, address) is null && AddressKey.TryOf(IpFamily.Inet6, address, out var key))
                Saw(owner, key, now, bound: true);
        }
    }

    /// <summary>Who claimed <paramref name="address"/> less than <see cref="Lifetime"/> before <paramref name="now"/>:
    /// <see cref="Outside"/> or a pair's index. False when nobody did.</summary>
    public bool TryOwner(IpFamily family, ReadOnlySpan<byte> address, long now, out int owner)
    {
        owner = 0;
        return AddressKey.TryOf(family, address, out var key) && TryFind(key, now, out owner, out _);
    }

    /// <summary>Records that <paramref name="owner"/> (<see cref="Outside"/> or a pair's index) claimed
    /// <paramref name="address"/> at <paramref name="now"/>. A tenant's claim of what someone else holds is not taken
    /// (the guard refused it); the outside's is.</summary>
    public void Saw(int owner, IpFamily family, ReadOnlySpan<byte> address, long now)
    {
        if (AddressKey.TryOf(family, address, out var key)) Saw(owner, key, now, bound: false);
    }

    /// <summary><see cref="Saw(int, IpFamily, ReadOnlySpan{byte}, long)"/> of an address already made a key.</summary>
    public void Saw(int owner, AddressKey key, long now) => Saw(owner, key, now, bound: false);

    /// <summary>Records <paramref name="key"/>'s claim; <paramref name="bound"/>: a DHCP server leased the address to
    /// tenant <paramref name="owner"/>, which takes it whoever claimed it first and whatever its share.</summary>
    private void Saw(int owner, AddressKey key, long now, bool bound)
    {
        // An entry of the same owner refreshed lately: nothing to write (a busy LAN's or tenant's ARP and ND take no lock).
        if (TryFind(key, now, out int current, out long seen) && current == owner && now - seen < Refresh)
            return;
        var (high, low) = (key.High, key.Low);
        int home = Home(key);
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
                    if (_owner[s] == owner)
                    {
                        Volatile.Write(ref _seen[s], now);
                        if (expired) Interlocked.Increment(ref _generation); // it holds the address again
                    }
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
            if (owner != Outside && !bound && AtLimit(owner, now))
            {
                // Only its own oldest makes room; the new address still takes the window's first free slot, where
                // lookups find it (they stop at the first slot that never held an address).
                if (oldestOwn < 0) return;
                if (free < 0) free = oldestOwn;
                else Write(oldestOwn, 0, 0, 0, Emptied);
            }
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
                if ((_high[s] | _low[s]) != 0 && _owner[s] != Outside && leaves(_owner[s])) Write(s, 0, 0, 0, Emptied);
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
            if ((_high[s] | _low[s]) != 0 && _owner[s] == pair && now - _seen[s] >= Lifetime) Write(s, 0, 0, 0, Emptied);
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
        if ((high | low) != 0) Interlocked.Increment(ref _generation);
    }

    private void Count(int pair, int delta)
    {
        var (count, swept) = _tenants.GetValueOrDefault(pair);
        _tenants[pair] = (count + delta, swept);
    }

    private bool TryFind(AddressKey key, long now, out int owner, out long seen)
    {
        owner = 0;
        seen = 0;
        int home = Home(key);
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
                if ((h | l) == 0 && t == 0) return false; // never held an address: the key is not further on
                if (h != key.High || l != key.Low) break;
                owner = o;
                seen = t;
                return now - t < Lifetime;
            }
        }
        return false;
    }

    private int Home(AddressKey key) => (int)((((key.High * 31) ^ key.Low ^ _seed) * 0x9E37_79B9_7F4A_7C15UL) >> 52); // 12 bits

    /// <summary>An address as the table keys it: 16 bytes, IPv4 as <c>::ffff:a.b.c.d</c>; never all zeros.</summary>
    public readonly record struct AddressKey(ulong High, ulong Low)
    {
        /// <summary>The key of <paramref name="address"/> of <paramref name="family"/>; false for the unspecified
        /// address and for a span too short for the family.</summary>
        public static bool TryOf(IpFamily family, ReadOnlySpan<byte> address, out AddressKey key)
        {
            if (family == IpFamily.Inet && address.Length >= 4)
                key = new(0, 0xFFFF_0000_0000UL | BinaryPrimitives.ReadUInt32BigEndian(address));
            else if (family == IpFamily.Inet6 && address.Length >= 16)
                key = new(BinaryPrimitives.ReadUInt64BigEndian(address), BinaryPrimitives.ReadUInt64BigEndian(address[8..]));
            else
                key = default;
            return (key.High | key.Low) != 0;
        }
    }

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

        public bool DhcpClient(in DhcpClientMessage message) => false;
    }
}
