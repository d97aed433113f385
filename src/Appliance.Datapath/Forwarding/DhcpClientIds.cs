using System.Diagnostics;

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
/// under a lock (DHCP client messages are rare: a few per client per lease), at most
/// <see cref="DhcpMessages.MaxIdentitiesPerMessage"/> × <see cref="Limit"/> compares. Nothing allocates.</para></summary>
public sealed class DhcpClientIds
{
    /// <summary>The share of a tenant that may send from no MAC but its own (<c>learnLimit</c> 0): a host, its restart
    /// with a new identity, and an IA_PD beside its IA_NA.</summary>
    public const int MinLimit = 4;

    /// <summary>How long an identity counts after a client message last named it: an hour, dnsmasq's default lease time
    /// (Kea's is 4000 s; a client renews at half of it).</summary>
    public static readonly long IdleLifetime = 3600 * Stopwatch.Frequency;

    /// <summary>The seed of every table's identity hashes: random per process, so no tenant can aim two identities at one
    /// hash (it would only count them once).</summary>
    private static readonly ulong Seed = (ulong)Random.Shared.NextInt64() | 1;

    /// <summary>The share per family of a tenant whose pair may learn <paramref name="learnLimit"/> MACs.</summary>
    public static int LimitFor(int learnLimit) => Math.Max(MinLimit, 2 * (learnLimit + 1));

    private readonly ulong[] _ids; // [0, Limit): DHCPv4's, [Limit, 2 Limit): DHCPv6's; 0: empty
    private readonly long[] _seen;
    private readonly Lock _lock = new();
    private long _refused;

    /// <param name="limit">Identities per family.</param>
    /// <param name="carry">The table this one replaces (its pair's learnLimit changed): what it holds is kept, as much
    /// of it as fits.</param>
    public DhcpClientIds(int limit, DhcpClientIds? carry = null)
    {
        Limit = limit;
        _ids = new ulong[2 * limit];
        _seen = new long[2 * limit];
        if (carry is null) return;
        lock (carry._lock)
        {
            _refused = carry._refused;
            for (int family = 0; family < 2; family++)
                for (int from = 0, to = 0; from < carry.Limit && to < limit; from++)
                {
                    int s = family * carry.Limit + from;
                    if (carry._ids[s] == 0) continue;
                    _ids[family * limit + to] = carry._ids[s];
                    _seen[family * limit + to++] = carry._seen[s];
                }
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
    /// holds are refreshed, new ones take free slots; false, and nothing changed, when the new ones do not fit.</summary>
    public bool Admit(bool v6, ReadOnlySpan<ulong> identities, long now)
    {
        int from = v6 ? Limit : 0;
        var ids = _ids.AsSpan(from, Limit);
        var seen = _seen.AsSpan(from, Limit);
        lock (_lock)
        {
            int live = 0, known = 0;
            for (int s = 0; s < ids.Length; s++)
                if (Live(ids[s], seen[s], now))
                {
                    live++;
                    if (identities.Contains(ids[s])) known++;
                }
            if (live + identities.Length - known > Limit) return false;
            foreach (ulong id in identities)
            {
                int slot = -1;
                for (int s = 0; s < ids.Length; s++)
                {
                    if (ids[s] == id)
                    {
                        slot = s;
                        break;
                    }
                    if (slot < 0 && !Live(ids[s], seen[s], now)) slot = s;
                }
                ids[slot] = id;
                seen[slot] = now;
            }
            return true;
        }
    }

    /// <summary>How many identities of a family the tenant holds at <paramref name="now"/>.</summary>
    public int Count(bool v6, long now)
    {
        int from = v6 ? Limit : 0, count = 0;
        lock (_lock)
            for (int s = from; s < from + Limit; s++)
                if (Live(_ids[s], _seen[s], now)) count++;
        return count;
    }

    private static bool Live(ulong id, long seen, long now) => id != 0 && now - seen < IdleLifetime;
}
