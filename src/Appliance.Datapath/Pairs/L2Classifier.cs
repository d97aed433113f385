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
    /// <summary>Runt frame, group or all-zero source: nothing to learn.</summary>
    Ignored,
    /// <summary>The pair owned it already.</summary>
    Known,
    /// <summary>New: the pair owns it from now on.</summary>
    Learned,
    /// <summary>Another pair owns it; not taken over.</summary>
    OwnedByAnother,
}

/// <summary>L2 classification on one uplink port, the appliance's stand-in for the host's bridge/FDB:
/// a pair owns the destination MACs configured for it or learned from what its tenant sends; group
/// addresses are flooded to every L2 pair on the port; everything else is unclaimed. Lookups allocate
/// nothing. Learning is done by the worker that owns the port; configuration changes replace the
/// classifier between batches.</summary>
public sealed class L2Classifier
{
    private readonly Dictionary<ulong, int> _owners = new();
    private readonly int[] _pairs;

    /// <param name="pairs">Indices of the L2 pairs on this port (flood targets, in config order).</param>
    /// <param name="configured">Configured MAC per pair index (pairs without one learn theirs).</param>
    public L2Classifier(IReadOnlyList<int> pairs, IReadOnlyDictionary<int, MacAddress> configured)
    {
        _pairs = [.. pairs];
        foreach (var (pair, mac) in configured) _owners[mac.Value] = pair;
    }

    public ReadOnlySpan<int> FloodTargets => _pairs;

    /// <summary>The classifier for the port's new set of L2 pairs (pairs come or go while running), built by the
    /// worker between batches: the configured MACs, plus what this one knew for pairs that <paramref name="keep"/>
    /// says stay as they are. Every other MAC it knew is added to <paramref name="released"/> (to release it from the
    /// port's steering).</summary>
    public L2Classifier CarryOver(IReadOnlyList<int> pairs, IReadOnlyDictionary<int, MacAddress> configured, Func<int, bool> keep,
        List<MacAddress> released)
    {
        var next = new L2Classifier(pairs, configured);
        Span<byte> six = stackalloc byte[6];
        foreach (var (mac, owner) in _owners)
        {
            if (next._owners.ContainsKey(mac)) continue;
            if (keep(owner)) next._owners[mac] = owner;
            else
            {
                System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(six, (ushort)(mac >> 32));
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(six[2..], (uint)mac);
                released.Add(MacAddress.Read(six));
            }
        }
        return next;
    }

    /// <summary>Every MAC it knows (configured and learned); worker only.</summary>
    public IEnumerable<MacAddress> Macs
    {
        get
        {
            var six = new byte[6];
            foreach (var mac in _owners.Keys)
            {
                System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(six, (ushort)(mac >> 32));
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(six.AsSpan(2), (uint)mac);
                yield return MacAddress.Read(six);
            }
        }
    }

    public ClassifyKind Classify(ReadOnlySpan<byte> frame, out int pair)
    {
        pair = -1;
        if (frame.Length < 14) return ClassifyKind.Unclaimed;
        var dst = MacAddress.Read(frame);
        if (dst.IsMulticast) return _pairs.Length > 0 ? ClassifyKind.Flood : ClassifyKind.Unclaimed;
        return _owners.TryGetValue(dst.Value, out pair) ? ClassifyKind.Pair : ClassifyKind.Unclaimed;
    }

    /// <summary>Learns the source MAC of a frame the tenant of <paramref name="pair"/> sent. A unicast
    /// source already owned by another pair is not taken over (tenants cannot steal each other's traffic).
    /// <see cref="LearnResult.Learned"/> only the first time a MAC is seen, so the caller can claim it once.</summary>
    public LearnResult Learn(int pair, ReadOnlySpan<byte> frame)
    {
        if (frame.Length < 14) return LearnResult.Ignored;
        var src = MacAddress.Read(frame[6..]);
        if (src.IsMulticast || src.Value == 0) return LearnResult.Ignored;
        if (_owners.TryGetValue(src.Value, out int owner)) return owner == pair ? LearnResult.Known : LearnResult.OwnedByAnother;
        _owners[src.Value] = pair;
        return LearnResult.Learned;
    }
}
