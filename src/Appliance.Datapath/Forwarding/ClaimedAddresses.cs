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
        // Neighbour discovery behind extension headers is left to the group frames (solicitations are multicast).
        return type == L3Frames.EtherTypeIpv6 && frame.Length >= at + 41 && frame[at + 6] == L3Frames.IcmpV6 && frame[at + 40] is >= 133 and <= 137;
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

    /// <summary>Who claimed <paramref name="address"/> less than <see cref="Lifetime"/> before <paramref name="now"/>:
    /// <see cref="Outside"/> or a pair's index. False when nobody did.</summary>
    public bool TryOwner(IpFamily family, ReadOnlySpan<byte> address, long now, out int owner) =>
        TryFind(family, address, now, out owner, out _);

    /// <summary>Records that <paramref name="owner"/> (<see cref="Outside"/> or a pair's index) claimed
    /// <paramref name="address"/> at <paramref name="now"/>. A tenant's claim of what someone else holds is not taken
    /// (the guard refused it); the outside's is.</summary>
    public void Saw(int owner, IpFamily family, ReadOnlySpan<byte> address, long now)
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
                    else if (owner == Outside || expired && !AtLimit(owner, now)) Write(s, high, low, owner, now);
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
            if (owner != Outside && AtLimit(owner, now)) free = -1; // only its own oldest makes room
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
