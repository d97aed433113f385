using Appliance.Config;
using Appliance.Datapath.Pairs;

namespace Appliance.Datapath.Runtime;

/// <summary>A board port the appliance owns: its L2 classifier (which pair owns which destination MAC, learned
/// MACs included), its unclaimed policy and the XDP steering that sends only claimed frames to AF_XDP.</summary>
public sealed class PortRuntime
{
    internal PortRuntime(int index, PortConfig config, int ifindex, MacAddress mac, int[] l2Pairs, L2Classifier classifier)
    {
        Index = index;
        Config = config;
        Ifindex = ifindex;
        Mac = mac;
        L2Pairs = l2Pairs;
        Classifier = classifier;
    }

    /// <summary>The classifier of port <paramref name="port"/>: its L2 pairs with their configured MACs and learn
    /// limits; reserved (never learned) are <paramref name="boardMacs"/> (the board's ports and pair ends) and every
    /// tenant's own MAC.</summary>
    internal static L2Classifier BuildClassifier(int[] l2, PairRuntime[] pairs, IReadOnlyDictionary<int, MacAddress> configured,
        IEnumerable<MacAddress> boardMacs) =>
        new(l2, configured, l2.ToDictionary(p => p, p => pairs[p].Config.LearnLimit),
            boardMacs.Concat(pairs.Select(p => p.PrimaryMac)).Concat(pairs.Select(p => p.TenantMac)).Where(m => !m.IsZero));

    public int Index { get; }
    public string Name => Config.Name;
    public PortConfig Config { get; }
    public int Ifindex { get; }
    public MacAddress Mac { get; }
    /// <summary>Indices of the L2 pairs whose uplink this is (flood targets, config order).</summary>
    public int[] L2Pairs { get; }
    /// <summary>Touched only by the forwarding worker (lookups and learning).</summary>
    public L2Classifier Classifier { get; }
    /// <summary>The port's XDP program and its claimed-MAC map.</summary>
    public ClaimedMacSteering? Steering { get; internal set; }
    /// <summary>Group frames copied to this port's L2 pairs by the flooder.</summary>
    public long Flooded => Volatile.Read(ref FloodedField);
    /// <summary>Unicast frames that reached AF_XDP but matched no pair (e.g. a MAC forgotten meanwhile).</summary>
    public long Unclaimed => Volatile.Read(ref UnclaimedField);
    internal long FloodedField, UnclaimedField;
}
