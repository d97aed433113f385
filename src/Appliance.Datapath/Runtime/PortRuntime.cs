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

    public int Index { get; }
    public string Name => Config.Name;
    /// <summary>Its part of the running config (replaced when a reload changes the port).</summary>
    public PortConfig Config { get; internal set; }
    public int Ifindex { get; }
    public MacAddress Mac { get; }
    /// <summary>Indices of the L2 pairs whose uplink this is (flood targets, config order).</summary>
    public int[] L2Pairs { get; internal set; }
    /// <summary>Touched only by the forwarding worker (lookups and learning; replaced by it when pairs come and go).</summary>
    public L2Classifier Classifier { get; internal set; }
    internal ClaimedMacSteering? Steering { get; set; }
    /// <summary>How its steering program is attached (null while a reload swaps it).</summary>
    public Xdp.XdpAttachMode? SteeringMode => Steering?.Mode;
    /// <summary>Its AF_XDP socket (engine port <see cref="Index"/>).</summary>
    internal Xsk.XskPort? Socket { get; set; }
    /// <summary>Group frames copied to this port's L2 pairs by the flooder.</summary>
    public long Flooded => Volatile.Read(ref FloodedField);
    /// <summary>Unicast frames that reached AF_XDP but matched no pair (e.g. a MAC forgotten meanwhile).</summary>
    public long Unclaimed => Volatile.Read(ref UnclaimedField);
    internal long FloodedField, UnclaimedField;
}
