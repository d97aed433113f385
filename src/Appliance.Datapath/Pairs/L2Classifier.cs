using System.Collections.Frozen;
using System.Runtime.CompilerServices;
using Appliance.Config;
namespace Appliance.Datapath.Pairs;

/// <summary>Where a frame that arrived on a port goes.</summary>
public enum ClassifyKind
{
    /// <summary>One L2 pair owns the destination MAC.</summary>
    Pair,
    /// <summary>Broadcast/multicast: a copy to every L2 pair on the port (<see cref="L2Classifier.FloodTargets"/>).</summary>
    Flood,
    /// <summary>No pair claims it: the port's unclaimed policy says kernel or drop.</summary>
    Unclaimed,
}

/// <summary>What <see cref="L2Classifier.Learn"/> did with a source MAC.</summary>
public enum LearnResult
{
    /// <summary>Runt frame: nothing to learn.</summary>
    Ignored,
    /// <summary>A group address or all zeros as source: invalid on Ethernet, never learned (the caller drops the frame).</summary>
    InvalidSource,
    /// <summary>The pair owned it already (a learned entry is refreshed).</summary>
    Known,
    /// <summary>New: the pair owns it from now on (the caller claims it in the port's XDP map once).</summary>
    Learned,
    /// <summary>Refused: another pair configured or learned it, on this port or another (tenants cannot steal each other's traffic).</summary>
    OwnedByAnother,
    /// <summary>Refused: the board's own MAC (a port, a pair's primary end) or a MAC another pair configured.</summary>
    Reserved,
    /// <summary>Refused: the pair has learned its <see cref="PairConfig.LearnLimit"/> MACs already.</summary>
    LimitReached,
    /// <summary>Refused: a host on the port's outside sent from it lately (<see cref="OutsideMacs"/>).</summary>
    SeenOutside,
}

/// <summary>A learned MAC and the pair that owned it (what <see cref="L2Classifier.Age"/> returns).</summary>
public readonly record struct LearnedMac(MacAddress Mac, int Pair);

/// <summary>One forwarding worker's last classification that found an owner (<see cref="L2Classifier.Classify(ReadOnlySpan{byte}, out int, ref ClassifyMemo)"/>):
/// the classifier's table it was found in, the MAC and its pair. Default: remembers nothing.</summary>
public readonly struct ClassifyMemo
{
    internal readonly object? Table;
    internal readonly ulong Mac;
    internal readonly int Pair;

    internal ClassifyMemo(object table, ulong mac, int pair)
    {
        Table = table;
        Mac = mac;
        Pair = pair;
    }
}

/// <summary>L2 classification on one uplink port, the appliance's stand-in for the host's bridge/FDB: a pair owns
/// the destination MACs configured for it or learned from what its tenant sends; group addresses are flooded to
/// every L2 pair on the port; everything else is unclaimed.
/// Learning is bounded: each pair learns at most its limit, never a group or zero MAC, never a reserved MAC (the
/// board's own, or one another pair configured) and never one another pair owns; learned MACs not seen for the
/// ageing time are forgotten (<see cref="Age"/>).
/// <para>Every forwarding worker classifies and learns here at once (a port's and a pair's frames arrive on all of
/// them). The MAC table is copy-on-write: readers take the published table by reference and look up without a lock
/// or an allocation; a change (a new learn, a forget, ageing) is made under a lock on a copy that is then published,
/// so a lookup sees the table before or after it, never half of it. Refreshing a known MAC writes its last-seen
/// time into a slot allocated with the classifier (a plain store). So only a new learn or a forget allocates (at
/// most each pair's learnLimit per ageing time); classification, refreshes and refusals allocate nothing.
/// Configuration changes replace the classifier between batches.</para></summary>
public sealed class L2Classifier
{
    private readonly struct Entry(int pair, int slot)
    {
        public readonly int Pair = pair;
        /// <summary>Index of its last-seen time for a learned MAC; -1 for a configured one.</summary>
        public readonly int Slot = slot;
        public bool Learned => Slot >= 0;
    }

    private Dictionary<ulong, Entry> _owners; // published by reference, never changed after that
    private readonly object _writeLock = new();
    private readonly FrozenSet<ulong> _reserved;
    private readonly OutsideMacs _outside;
    /// <summary>The classifier <see cref="CarryOver"/> made from this one (set under the write lock): a MAC that moves
    /// outside after the copy is forgotten there too.</summary>
    private L2Classifier? _successor;
    private readonly int[] _pairs;
    private readonly int[] _limit;
    private readonly int[] _learned;
    private readonly long[] _lastSeen;
    private readonly int[] _freeSlots;
    private int _freeCount;
    private readonly LearnedMac[] _expired;
    private long _now;
    private long _oldest = long.MaxValue;
    /// <summary>Serialises ageing passes (any forwarding worker may run one; <see cref="Age"/>'s result buffer is shared).</summary>
    internal readonly object AgeingGate = new();

    /// <param name="pairs">Indices of the L2 pairs on this port (flood targets, in config order).</param>
    /// <param name="configured">Configured MAC per pair index (pairs without one learn theirs).</param>
    /// <param name="learnLimits">Learn limit per pair index (a pair not in it learns nothing); null: none learn.</param>
    /// <param name="reserved">MACs no pair may learn: the board's own and those other pairs configured.</param>
    /// <param name="outside">MACs of hosts seen on the port's outside, which no pair learns (a new, empty table when null).</param>
    public L2Classifier(IReadOnlyList<int> pairs, IReadOnlyDictionary<int, MacAddress> configured,
        IReadOnlyDictionary<int, int>? learnLimits = null, IEnumerable<MacAddress>? reserved = null, OutsideMacs? outside = null)
    {
        _outside = outside ?? new OutsideMacs();
        _pairs = [.. pairs];
        int maxPair = pairs.Concat(configured.Keys).Concat(learnLimits?.Keys ?? []).DefaultIfEmpty(-1).Max();
        _limit = new int[maxPair + 1];
        _learned = new int[maxPair + 1];
        if (learnLimits is not null)
            foreach (var (pair, limit) in learnLimits) _limit[pair] = Math.Max(0, limit);
        int learnable = _limit.Sum();
        var owners = new Dictionary<ulong, Entry>(configured.Count + learnable);
        _expired = new LearnedMac[learnable];
        _lastSeen = new long[learnable];
        _freeSlots = new int[learnable];
        for (int i = 0; i < learnable; i++) _freeSlots[i] = learnable - 1 - i;
        _freeCount = learnable;
        foreach (var (pair, mac) in configured) owners[mac.Value] = new Entry(pair, -1);
        _owners = owners;
        _reserved = (reserved ?? []).Select(m => m.Value).Where(v => !owners.ContainsKey(v)).ToFrozenSet();
    }

    public ReadOnlySpan<int> FloodTargets => _pairs;

    /// <summary>The classifier for the port's new set of L2 pairs (pairs come or go while running), built between
    /// batches with the new configured MACs, limits and reserved MACs, plus what this one learned for
    /// pairs that <paramref name="keep"/> says stay as they are (within their new limit, their ageing clock kept).
    /// Every other MAC it knew is added to <paramref name="released"/> (to release it from the port's steering).</summary>
    public L2Classifier CarryOver(IReadOnlyList<int> pairs, IReadOnlyDictionary<int, MacAddress> configured, IReadOnlyDictionary<int, int>? learnLimits,
        IEnumerable<MacAddress>? reserved, Func<int, bool> keep, List<MacAddress> released)
    {
        var next = new L2Classifier(pairs, configured, learnLimits, reserved, _outside) { _now = _now };
        var owners = new Dictionary<ulong, Entry>(next._owners);
        // Under the write lock: a move the group-frame flooder makes meanwhile (SawOutside) is either in the table
        // copied here or finds the successor set and is made there too.
        lock (_writeLock)
        {
            foreach (var (mac, e) in _owners)
            {
                if (owners.ContainsKey(mac)) continue;
                if (e.Learned && keep(e.Pair) && !next._reserved.Contains(mac) && (uint)e.Pair < (uint)next._limit.Length
                    && next._learned[e.Pair] < next._limit[e.Pair] && !_outside.Has(MacAddress.FromValue(mac), _now))
                {
                    int slot = next._freeSlots[--next._freeCount];
                    next._lastSeen[slot] = _lastSeen[e.Slot];
                    next._oldest = Math.Min(next._oldest, _lastSeen[e.Slot]);
                    owners.Add(mac, new Entry(e.Pair, slot));
                    next._learned[e.Pair]++;
                }
                else released.Add(MacAddress.FromValue(mac));
            }
            next._owners = owners;
            _successor = next;
        }
        return next;
    }

    /// <summary>Every MAC it knows (configured and learned); not per frame.</summary>
    public IEnumerable<MacAddress> Macs => Volatile.Read(ref _owners).Keys.Select(MacAddress.FromValue).ToArray();

    /// <summary>MACs the pair has learned (not counting its configured one).</summary>
    public int LearnedCount(int pair) => (uint)pair < (uint)_learned.Length ? Volatile.Read(ref _learned[pair]) : 0;

    /// <summary>No learned MAC was last seen before this (a Stopwatch timestamp; <see cref="long.MaxValue"/> when none is
    /// learned): the earliest any can expire is this plus the ageing time. A lower bound — refreshes move the real
    /// oldest later — made exact again by each <see cref="Age"/>.</summary>
    public long OldestLearned => Volatile.Read(ref _oldest);

    /// <summary>The workers' coarse clock for learning (set at each health tick; a frame needs no clock read).</summary>
    public void SetClock(long nowTicks) => Volatile.Write(ref _now, nowTicks);

    /// <summary>The clock <see cref="SetClock"/> last set (Stopwatch ticks): the forwarding workers' time.</summary>
    public long Now => Volatile.Read(ref _now);

    /// <summary>The owner of <paramref name="frame"/>'s destination: a pair (its index), flood (a group address) or
    /// unclaimed. It first asks <paramref name="memo"/>, a forwarding
    /// worker's last destination MAC that a pair owned and the table it was found in: the same MAC in the same table
    /// (published tables never change, see above) has the same owner, so a run of frames to one MAC costs one lookup.
    /// A learn, a forget, ageing or a new classifier publishes another table, which the memo does not match.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ClassifyKind Classify(ReadOnlySpan<byte> frame, out int pair, ref ClassifyMemo memo)
    {
        pair = -1;
        if (frame.Length < 14) return ClassifyKind.Unclaimed;
        var dst = MacAddress.Read(frame);
        if (dst.IsMulticast) return _pairs.Length > 0 ? ClassifyKind.Flood : ClassifyKind.Unclaimed;
        var owners = Volatile.Read(ref _owners);
        if (memo.Mac == dst.Value && ReferenceEquals(memo.Table, owners))
        {
            pair = memo.Pair;
            return ClassifyKind.Pair;
        }
        if (!owners.TryGetValue(dst.Value, out var e)) return ClassifyKind.Unclaimed;
        memo = new ClassifyMemo(owners, dst.Value, e.Pair);
        pair = e.Pair;
        return ClassifyKind.Pair;
    }

    /// <summary>Whether <paramref name="mac"/> is <paramref name="pair"/>'s on this port (configured or learned): one
    /// its tenant may send from, and name in ARP and neighbour discovery (<see cref="Forwarding.AddressGuard"/>).</summary>
    public bool Owns(int pair, MacAddress mac) => Volatile.Read(ref _owners).TryGetValue(mac.Value, out var e) && e.Pair == pair;

    /// <summary>Learns the source MAC of a frame the tenant of <paramref name="pair"/> sent.
    /// <see cref="LearnResult.Learned"/> only the first time a MAC is seen, so the caller can claim it once (when two
    /// workers see a new MAC at once, one of them learns it and the other finds it known).</summary>
    public LearnResult Learn(int pair, ReadOnlySpan<byte> frame, IMacOwners? elsewhere = null)
    {
        if (frame.Length < 14) return LearnResult.Ignored;
        var src = MacAddress.Read(frame[6..]);
        if (src.IsMulticast || src.Value == 0) return LearnResult.InvalidSource;
        if (Volatile.Read(ref _owners).TryGetValue(src.Value, out var e)) return Seen(e, pair);
        if (_reserved.Contains(src.Value)) return LearnResult.Reserved;
        if (_outside.Has(src, Volatile.Read(ref _now))) return LearnResult.SeenOutside;
        if ((uint)pair >= (uint)_limit.Length || Volatile.Read(ref _learned[pair]) >= _limit[pair]) return LearnResult.LimitReached;
        if (elsewhere?.OwnedElsewhere(src, this) == true) return LearnResult.OwnedByAnother;
        lock (_writeLock)
        {
            var owners = _owners;
            if (owners.TryGetValue(src.Value, out e)) return Seen(e, pair); // another worker learned it meanwhile
            if (_learned[pair] >= _limit[pair] || _freeCount == 0) return LearnResult.LimitReached;
            int slot = _freeSlots[--_freeCount];
            long now = Volatile.Read(ref _now);
            _lastSeen[slot] = now;
            if (now < _oldest) Volatile.Write(ref _oldest, now);
            var next = new Dictionary<ulong, Entry>(owners) { [src.Value] = new Entry(pair, slot) };
            Volatile.Write(ref _learned[pair], _learned[pair] + 1);
            Volatile.Write(ref _owners, next);
        }
        return LearnResult.Learned;
    }

    private LearnResult Seen(in Entry e, int pair)
    {
        if (e.Pair != pair) return LearnResult.OwnedByAnother;
        if (e.Learned) _lastSeen[e.Slot] = _now;
        return LearnResult.Known;
    }

    /// <summary>The MACs of hosts seen on the port's outside (the classifier's successors share it).</summary>
    public OutsideMacs Outside => _outside;

    /// <summary>A frame from <paramref name="mac"/> arrived from the port's outside at <paramref name="now"/>: the MAC is
    /// recorded as outside's, and when a pair had learned it (a tenant sent from a host's MAC before the host spoke, or
    /// the host moved out from behind the tenant) it is forgotten, as a switch moves a MAC to the port it was last seen
    /// on. Returns that pair's index, the caller releases the MAC from the port's steering; -1 when no pair had learned
    /// it (a configured MAC stays the pair's). Allocates only when it forgets (the new table).</summary>
    public int SawOutside(MacAddress mac, long now)
    {
        _outside.Saw(mac, now);
        if ((!Volatile.Read(ref _owners).TryGetValue(mac.Value, out var seen) || !seen.Learned) && Volatile.Read(ref _successor) is null) return -1;
        int pair = -1;
        L2Classifier? successor;
        lock (_writeLock)
        {
            successor = _successor;
            if (_owners.TryGetValue(mac.Value, out var e) && e.Learned)
            {
                var next = new Dictionary<ulong, Entry>(_owners);
                Remove(next, mac.Value, e);
                Volatile.Write(ref _owners, next);
                pair = e.Pair;
            }
        }
        // A reload carried this classifier's MACs over before the move: the successor forgets it too.
        int carried = successor?.SawOutside(mac, now) ?? -1;
        return pair >= 0 ? pair : carried;
    }

    /// <summary>The pair of this port that owns <paramref name="mac"/> (configured or learned), if any.</summary>
    public bool TryOwner(MacAddress mac, out int pair)
    {
        bool owned = Volatile.Read(ref _owners).TryGetValue(mac.Value, out var e);
        pair = owned ? e.Pair : -1;
        return owned;
    }

    /// <summary>Forgets a learned MAC (e.g. the kernel refused to claim it); configured MACs stay.</summary>
    public bool Forget(MacAddress mac)
    {
        lock (_writeLock)
        {
            if (!_owners.TryGetValue(mac.Value, out var e) || !e.Learned) return false;
            var next = new Dictionary<ulong, Entry>(_owners);
            Remove(next, mac.Value, e);
            Volatile.Write(ref _owners, next);
            return true;
        }
    }

    private void Remove(Dictionary<ulong, Entry> owners, ulong mac, Entry e)
    {
        owners.Remove(mac);
        _freeSlots[_freeCount++] = e.Slot;
        Volatile.Write(ref _learned[e.Pair], _learned[e.Pair] - 1);
    }

    /// <summary>Forgets every learned MAC last seen before <paramref name="cutoffTicks"/> and returns them (in a buffer
    /// owned by the classifier, valid until the next call; one caller at a time: <see cref="AgeingGate"/>) so the
    /// caller can unclaim them, and makes <see cref="OldestLearned"/> exact. Allocates only when something expired
    /// (the new table).</summary>
    public ReadOnlySpan<LearnedMac> Age(long cutoffTicks)
    {
        lock (_writeLock)
        {
            int n = 0;
            long oldest = long.MaxValue;
            foreach (var (mac, e) in _owners)
            {
                if (!e.Learned) continue;
                long seen = _lastSeen[e.Slot];
                if (seen < cutoffTicks) _expired[n++] = new LearnedMac(MacAddress.FromValue(mac), e.Pair);
                else if (seen < oldest) oldest = seen;
            }
            Volatile.Write(ref _oldest, oldest);
            if (n == 0) return [];
            var next = new Dictionary<ulong, Entry>(_owners);
            for (int i = 0; i < n; i++) Remove(next, _expired[i].Mac.Value, next[_expired[i].Mac.Value]);
            Volatile.Write(ref _owners, next);
            return _expired.AsSpan(0, n);
        }
    }
}
