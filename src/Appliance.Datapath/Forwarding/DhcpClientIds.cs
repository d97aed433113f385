using System.Diagnostics;
using System.Numerics;

namespace Appliance.Datapath.Forwarding;

/// <summary>The DHCP client identities one L2 tenant used lately (<see cref="DhcpMessages.ClientIdentities"/>: DHCPv4
/// client identifiers, else hardware addresses; DHCPv6 DUIDs with each IA's type and IAID), at most
/// <see cref="Limit"/> per family. A server that keys its leases on the client identifier (dnsmasq, ISC dhcpd, Kea)
/// leases an address to every identity it hears, so a tenant sending from its own MAC with a new identifier each time
/// would lease the LAN's pool dry (DHCP snooping's MAC check, <see cref="AddressGuard"/>, bounds only the MACs). A
/// client message naming an identity beyond the tenant's share is refused (<see cref="Refuses"/>; the caller drops the
/// frame as <see cref="PairDropReason.InvalidSource"/>) and counted (<see cref="Refused"/>).
/// <para>The share is <see cref="LimitFor"/>: twice the MACs the tenant may send from (its own and its
/// <c>learnLimit</c>), at least <see cref="MinLimit"/>: a host or VM behind it uses one identity per family (two with
/// an IA_PD), and the room left covers hosts that restart with a new one. An identity not named for
/// <see cref="IdleLifetime"/> is forgotten: a client renews at half its lease (RFC 2131 §4.4.5, RFC 8415 §21.4), so a
/// client holding a lease of up to twice that keeps its identity, and one that comes back with the same identity
/// after any time is let in as long as its tenant has room. A tenant can so hold at most <see cref="Limit"/>
/// identities' leases per family for each <see cref="IdleLifetime"/> a server's lease lasts.</para>
/// <para>A fixed table made with the pair; every forwarding worker may judge the pair's frames, so a message is judged
/// under a lock. Per family the identities are a hash table chained on the identity (already a hash, seeded per
/// process) and a list from the one named longest ago to the one named last: a message looks up each identity it names
/// (at most <see cref="DhcpMessages.MaxIdentitiesPerMessage"/>), refreshes it or adds it at the list's end, after
/// forgetting those at the list's head idle for <see cref="IdleLifetime"/>. An identity is forgotten at most once per
/// time it was added, so what a message costs does not grow with the share (2,050 at the largest <c>learnLimit</c>): a
/// tenant flooding client messages spends a worker no more than with any other frames. The table's clock is the latest
/// now it was handed (the workers' clocks differ by a batch at most), so the list stays in order. Nothing
/// allocates.</para></summary>
public sealed class DhcpClientIds
{
    /// <summary>The share of a tenant that may send from no MAC but its own (<c>learnLimit</c> 0): a host, its restart
    /// with a new identity, and an IA_PD beside its IA_NA.</summary>
    public const int MinLimit = 4;

    /// <summary>How long an identity counts after a client message last named it: an hour, dnsmasq's default lease time
    /// (Kea's is 4000 s; a client renews at half of it).</summary>
    public static readonly long IdleLifetime = 3600 * Stopwatch.Frequency;

    /// <summary>The seed of every table's identity hashes: random per process, so no tenant can aim two identities at one
    /// hash (it would only count them once), nor many at one chain.</summary>
    private static readonly ulong Seed = (ulong)Random.Shared.NextInt64() | 1;

    /// <summary>The share per family of a tenant whose pair may learn <paramref name="learnLimit"/> MACs.</summary>
    public static int LimitFor(int learnLimit) => Math.Max(MinLimit, 2 * (learnLimit + 1));

    private readonly Share _v4, _v6;
    private readonly Lock _lock = new();
    private long _refused, _clock = long.MinValue;

    /// <param name="limit">Identities per family.</param>
    /// <param name="carry">The table this one replaces (its pair's learnLimit changed): what it holds is kept, as much
    /// of it as fits, the identities named last first.</param>
    public DhcpClientIds(int limit, DhcpClientIds? carry = null)
    {
        Limit = limit;
        _v4 = new Share(limit);
        _v6 = new Share(limit);
        if (carry is null) return;
        lock (carry._lock)
        {
            _refused = carry._refused;
            _clock = carry._clock;
            _v4.Carry(carry._v4);
            _v6.Carry(carry._v6);
        }
    }

    /// <summary>Identities per family.</summary>
    public int Limit { get; }

    /// <summary>Client messages refused: naming a new identity beyond the share, or hiding what they name (a fragment,
    /// more than <see cref="DhcpMessages.MaxIdentitiesPerMessage"/> identities).</summary>
    public long Refused => Volatile.Read(ref _refused);

    /// <summary>Whether the DHCP client's message <paramref name="message"/>, which the tenant sends at
    /// <paramref name="now"/> (Stopwatch ticks), names an identity beyond its share (or hides what it names); else the
    /// identities it names are its own until <see cref="IdleLifetime"/> after now.</summary>
    public bool Refuses(in DhcpClientMessage message, long now)
    {
        Span<ulong> identities = stackalloc ulong[DhcpMessages.MaxIdentitiesPerMessage];
        int count = DhcpMessages.ClientIdentities(message, Seed, identities);
        if (count == 0) return false;
        if (count > 0 && Admit(message.V6, identities[..count], now)) return false;
        Interlocked.Increment(ref _refused);
        return true;
    }

    /// <summary>Takes <paramref name="identities"/> (distinct, not 0) as the tenant's at <paramref name="now"/>: those it
    /// holds are refreshed, new ones take free entries; false, and nothing changed, when the new ones do not fit.</summary>
    public bool Admit(bool v6, ReadOnlySpan<ulong> identities, long now)
    {
        var share = v6 ? _v6 : _v4;
        lock (_lock)
        {
            now = Advance(now);
            share.Forget(now);
            int known = 0;
            foreach (ulong id in identities)
                if (share.Find(id) >= 0) known++;
            if (share.Count + identities.Length - known > Limit) return false;
            foreach (ulong id in identities) share.Name(id, now);
            return true;
        }
    }

    /// <summary>How many identities of a family the tenant holds at <paramref name="now"/>.</summary>
    public int Count(bool v6, long now)
    {
        var share = v6 ? _v6 : _v4;
        lock (_lock)
        {
            share.Forget(Advance(now));
            return share.Count;
        }
    }

    /// <summary>The table's clock at <paramref name="now"/>: it never goes back.</summary>
    private long Advance(long now) => _clock = Math.Max(_clock, now);

    /// <summary>One family's identities (entries 0 to the share): a hash table chained on the identity, and a list from
    /// the entry named longest ago to the one named last. -1 ends a chain or a list.</summary>
    private sealed class Share
    {
        private readonly ulong[] _id;     // 0: free
        private readonly long[] _seen;
        private readonly int[] _next;     // the next entry of its chain, or of the free ones
        private readonly int[] _older, _newer;
        private readonly int[] _chains;   // an identity's low bits: its chain's first entry
        private int _oldest = -1, _newest = -1, _free;

        public Share(int limit)
        {
            _id = new ulong[limit];
            _seen = new long[limit];
            _next = new int[limit];
            _older = new int[limit];
            _newer = new int[limit];
            _chains = new int[BitOperations.RoundUpToPowerOf2((uint)Math.Max(limit, 1))];
            _chains.AsSpan().Fill(-1);
            for (int n = 0; n < limit; n++) _next[n] = n + 1 < limit ? n + 1 : -1;
            _free = limit > 0 ? 0 : -1;
        }

        /// <summary>Identities held.</summary>
        public int Count { get; private set; }

        /// <summary>The entry holding <paramref name="id"/>, or -1.</summary>
        public int Find(ulong id)
        {
            for (int n = _chains[Chain(id)]; n >= 0; n = _next[n])
                if (_id[n] == id) return n;
            return -1;
        }

        /// <summary>Names <paramref name="id"/> at <paramref name="now"/> (no earlier than any entry's): refreshed when it
        /// is held, else added (the caller saw there is room).</summary>
        public void Name(ulong id, long now)
        {
            int n = Find(id);
            if (n >= 0) Unlink(n);
            else
            {
                n = _free;
                _free = _next[n];
                _id[n] = id;
                ref int chain = ref _chains[Chain(id)];
                _next[n] = chain;
                chain = n;
                Count++;
            }
            _seen[n] = now;
            _older[n] = _newest;
            _newer[n] = -1;
            if (_newest >= 0) _newer[_newest] = n;
            else _oldest = n;
            _newest = n;
        }

        /// <summary>Forgets the identities idle for <see cref="IdleLifetime"/> at <paramref name="now"/>: those at the
        /// list's head.</summary>
        public void Forget(long now)
        {
            while (_oldest >= 0 && now - _seen[_oldest] >= IdleLifetime)
            {
                int n = _oldest;
                Unlink(n);
                ref int at = ref _chains[Chain(_id[n])];
                while (at != n) at = ref _next[at];
                at = _next[n];
                _id[n] = 0;
                _next[n] = _free;
                _free = n;
                Count--;
            }
        }

        /// <summary>Takes what <paramref name="from"/> holds, as much as fits, the entries named last first.</summary>
        public void Carry(Share from)
        {
            int skip = from.Count - _id.Length;
            for (int n = from._oldest; n >= 0; n = from._newer[n], skip--)
                if (skip <= 0) Name(from._id[n], from._seen[n]);
        }

        private int Chain(ulong id) => (int)id & (_chains.Length - 1);

        private void Unlink(int n)
        {
            int older = _older[n], newer = _newer[n];
            if (older >= 0) _newer[older] = newer;
            else _oldest = newer;
            if (newer >= 0) _older[newer] = older;
            else _newest = older;
        }
    }
}
