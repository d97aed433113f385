using System.Collections.Frozen;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
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
    /// <summary>Refused: another pair on this port configured or learned it (tenants cannot steal each other's traffic).</summary>
    OwnedByAnother,
    /// <summary>Refused: the board's own MAC (a port, a pair's primary end) or a MAC another pair configured.</summary>
    Reserved,
    /// <summary>Refused: the pair has learned its <see cref="PairConfig.LearnLimit"/> MACs already.</summary>
    LimitReached,
}

/// <summary>A learned MAC and the pair that owned it (what <see cref="L2Classifier.Age"/> returns).</summary>
public readonly record struct LearnedMac(MacAddress Mac, int Pair);

/// <summary>L2 classification on one uplink port, the appliance's stand-in for the host's bridge/FDB: a pair owns
/// the destination MACs configured for it or learned from what its tenant sends; group addresses are flooded to
/// every L2 pair on the port; everything else is unclaimed.
/// Learning is bounded: each pair learns at most its limit, never a group or zero MAC, never a reserved MAC (the
/// board's own, or one another pair configured) and never one another pair owns; learned MACs not seen for the
/// ageing time are forgotten (<see cref="Age"/>). The table is allocated once for its largest size (configured +
/// every pair's limit), so lookups and learning allocate nothing. Used only by the worker that owns the port;
/// configuration changes replace the classifier between batches.</summary>
public sealed class L2Classifier
{
    private struct Entry
    {
        public int Pair;
        public bool Learned;
        public long LastSeen;
    }

    private readonly Dictionary<ulong, Entry> _owners;
    private readonly FrozenSet<ulong> _reserved;
    private readonly int[] _pairs;
    private readonly int[] _limit;
    private readonly int[] _learned;
    private readonly LearnedMac[] _expired;
    private long _now;

    /// <param name="pairs">Indices of the L2 pairs on this port (flood targets, in config order).</param>
    /// <param name="configured">Configured MAC per pair index (pairs without one learn theirs).</param>
    /// <param name="learnLimits">Learn limit per pair index (a pair not in it learns nothing); null: none learn.</param>
    /// <param name="reserved">MACs no pair may learn: the board's own and those other pairs configured.</param>
    public L2Classifier(IReadOnlyList<int> pairs, IReadOnlyDictionary<int, MacAddress> configured,
        IReadOnlyDictionary<int, int>? learnLimits = null, IEnumerable<MacAddress>? reserved = null)
    {
        _pairs = [.. pairs];
        int maxPair = pairs.Concat(configured.Keys).Concat(learnLimits?.Keys ?? []).DefaultIfEmpty(-1).Max();
        _limit = new int[maxPair + 1];
        _learned = new int[maxPair + 1];
        if (learnLimits is not null)
            foreach (var (pair, limit) in learnLimits) _limit[pair] = Math.Max(0, limit);
        int capacity = configured.Count + _limit.Sum();
        _owners = new Dictionary<ulong, Entry>(capacity);
        _expired = new LearnedMac[_limit.Sum()];
        foreach (var (pair, mac) in configured) _owners[mac.Value] = new Entry { Pair = pair };
        _reserved = (reserved ?? []).Select(m => m.Value).Where(v => !_owners.ContainsKey(v)).ToFrozenSet();
    }

    public ReadOnlySpan<int> FloodTargets => _pairs;

    /// <summary>The classifier for the port's new set of L2 pairs (pairs come or go while running), built by the
    /// worker between batches with the new configured MACs, limits and reserved MACs, plus what this one learned for
    /// pairs that <paramref name="keep"/> says stay as they are (within their new limit, their ageing clock kept).
    /// Every other MAC it knew is added to <paramref name="released"/> (to release it from the port's steering).</summary>
    public L2Classifier CarryOver(IReadOnlyList<int> pairs, IReadOnlyDictionary<int, MacAddress> configured, IReadOnlyDictionary<int, int>? learnLimits,
        IEnumerable<MacAddress>? reserved, Func<int, bool> keep, List<MacAddress> released)
    {
        var next = new L2Classifier(pairs, configured, learnLimits, reserved) { _now = _now };
        foreach (var (mac, e) in _owners)
        {
            if (next._owners.ContainsKey(mac)) continue;
            if (e.Learned && keep(e.Pair) && !next._reserved.Contains(mac) && (uint)e.Pair < (uint)next._limit.Length
                && next._learned[e.Pair] < next._limit[e.Pair])
            {
                next._owners.Add(mac, e);
                next._learned[e.Pair]++;
            }
            else released.Add(MacAddress.FromValue(mac));
        }
        return next;
    }

    /// <summary>Every MAC it knows (configured and learned); worker only, not per frame.</summary>
    public IEnumerable<MacAddress> Macs => _owners.Keys.Select(MacAddress.FromValue).ToArray();

    /// <summary>MACs the pair has learned (not counting its configured one).</summary>
    public int LearnedCount(int pair) => (uint)pair < (uint)_learned.Length ? _learned[pair] : 0;

    /// <summary>The worker's coarse clock for learning (set at each health tick; a frame needs no clock read).</summary>
    public void SetClock(long nowTicks) => _now = nowTicks;

    public ClassifyKind Classify(ReadOnlySpan<byte> frame, out int pair)
    {
        pair = -1;
        if (frame.Length < 14) return ClassifyKind.Unclaimed;
        var dst = MacAddress.Read(frame);
        if (dst.IsMulticast) return _pairs.Length > 0 ? ClassifyKind.Flood : ClassifyKind.Unclaimed;
        ref var e = ref CollectionsMarshal.GetValueRefOrNullRef(_owners, dst.Value);
        if (Unsafe.IsNullRef(ref e)) return ClassifyKind.Unclaimed;
        pair = e.Pair;
        return ClassifyKind.Pair;
    }

    /// <summary>Learns the source MAC of a frame the tenant of <paramref name="pair"/> sent.
    /// <see cref="LearnResult.Learned"/> only the first time a MAC is seen, so the caller can claim it once.</summary>
    public LearnResult Learn(int pair, ReadOnlySpan<byte> frame)
    {
        if (frame.Length < 14) return LearnResult.Ignored;
        var src = MacAddress.Read(frame[6..]);
        if (src.IsMulticast || src.Value == 0) return LearnResult.InvalidSource;
        ref var e = ref CollectionsMarshal.GetValueRefOrNullRef(_owners, src.Value);
        if (!Unsafe.IsNullRef(ref e))
        {
            if (e.Pair != pair) return LearnResult.OwnedByAnother;
            e.LastSeen = _now;
            return LearnResult.Known;
        }
        if (_reserved.Contains(src.Value)) return LearnResult.Reserved;
        if ((uint)pair >= (uint)_limit.Length || _learned[pair] >= _limit[pair]) return LearnResult.LimitReached;
        _owners.Add(src.Value, new Entry { Pair = pair, Learned = true, LastSeen = _now });
        _learned[pair]++;
        return LearnResult.Learned;
    }

    /// <summary>Forgets a learned MAC (e.g. the kernel refused to claim it); configured MACs stay.</summary>
    public bool Forget(MacAddress mac)
    {
        ref var e = ref CollectionsMarshal.GetValueRefOrNullRef(_owners, mac.Value);
        if (Unsafe.IsNullRef(ref e) || !e.Learned) return false;
        _learned[e.Pair]--;
        _owners.Remove(mac.Value);
        return true;
    }

    /// <summary>Forgets every learned MAC last seen before <paramref name="cutoffTicks"/> and returns them (in a buffer
    /// owned by the classifier, valid until the next call) so the caller can unclaim them. Allocates nothing.</summary>
    public ReadOnlySpan<LearnedMac> Age(long cutoffTicks)
    {
        int n = 0;
        foreach (var (mac, e) in _owners)
            if (e.Learned && e.LastSeen < cutoffTicks) _expired[n++] = new LearnedMac(MacAddress.FromValue(mac), e.Pair);
        for (int i = 0; i < n; i++) Forget(_expired[i].Mac);
        return _expired.AsSpan(0, n);
    }
}
