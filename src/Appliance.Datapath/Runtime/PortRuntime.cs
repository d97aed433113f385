using Appliance.Config;
using Appliance.Datapath.Pairs;
using Appliance.Datapath.Xdp;

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

    /// <summary>The classifier of port <paramref name="port"/> for <paramref name="pairs"/> (all of them; those whose
    /// uplink it is are its L2 pairs, with their tenant MACs and learn limits). Never learned (reserved):
    /// <paramref name="boardMacs"/> (the board's ports), every pair's primary end and every tenant's own MAC. With
    /// <paramref name="carryFrom"/>, what it learned for pairs <paramref name="keep"/> says stay is carried over and
    /// the MACs it drops are added to <paramref name="released"/>.</summary>
    internal static L2Classifier BuildClassifier(int port, IReadOnlyList<PairRuntime> pairs, IEnumerable<MacAddress> boardMacs,
        L2Classifier? carryFrom = null, Func<int, bool>? keep = null, List<MacAddress>? released = null)
    {
        var l2 = pairs.Where(p => p.UplinkPort == port && p.Config.Mode == PairMode.L2).ToArray();
        int[] indices = [.. l2.Select(p => p.Index)];
        var configured = l2.Where(p => !p.TenantMac.IsZero).ToDictionary(p => p.Index, p => p.TenantMac);
        var limits = l2.ToDictionary(p => p.Index, p => p.Config.LearnLimit);
        var reserved = boardMacs.Concat(pairs.Select(p => p.PrimaryMac)).Concat(pairs.Select(p => p.TenantMac)).Where(m => !m.IsZero).ToList();
        if (carryFrom is not null) return carryFrom.CarryOver(indices, configured, limits, reserved, keep ?? (_ => false), released ?? []);
        var classifier = new L2Classifier(indices, configured, limits, reserved);
        classifier.SetClock(System.Diagnostics.Stopwatch.GetTimestamp()); // what it records counts from now, before the workers' first tick
        return classifier;
    }

    /// <summary>The L3 prefixes of the pairs whose uplink is <paramref name="port"/>: each tenant address's network →
    /// its pair (one longest-prefix match finds the tenant of a destination).</summary>
    internal static Routing.PrefixTable<PairRuntime> BuildL3Prefixes(int port, IReadOnlyList<PairRuntime> pairs)
    {
        var b = new Routing.PrefixTable<PairRuntime>.Builder();
        foreach (var p in pairs.Where(p => p.UplinkPort == port && p.Config.Mode == PairMode.L3))
            foreach (var a in p.Config.Tenant.Addresses)
                b.TryAdd(Routing.IpNumbers.Of(a.Address), Routing.IpNumbers.Read(a.Address), a.PrefixLength, p);
        return b.Build();
    }

    public int Index { get; }
    public string Name => Config.Name;
    /// <summary>Its part of the running config (replaced when a reload changes the port).</summary>
    public PortConfig Config { get; internal set; }
    public int Ifindex { get; }
    /// <summary>The interface's MAC: what L3 tenants' frames leave from and proxy ARP/ND answers with, reserved in the
    /// classifiers (follows a reload's <c>mac</c>, between batches).</summary>
    public MacAddress Mac { get; internal set; }
    /// <summary>Indices of the L2 pairs whose uplink this is (flood targets, config order).</summary>
    public int[] L2Pairs { get; internal set; }
    /// <summary>Used by every forwarding worker (lookups and learning, see <see cref="L2Classifier"/>); replaced between
    /// batches when pairs come and go.</summary>
    public L2Classifier Classifier { get; internal set; }
    /// <summary>Longest-prefix match over the L3 pairs of this port (immutable; replaced between batches when pairs come and go).</summary>
    public Routing.PrefixTable<PairRuntime> L3Prefixes { get; internal set; } = Routing.PrefixTable<PairRuntime>.Empty;
    /// <summary>Who on its LAN (a host outside, one of its L2 tenants) claimed an address lately: no other tenant may
    /// claim it here (kept the port's life long, across reloads).</summary>
    public Forwarding.ClaimedAddresses ClaimedAddresses { get; } = new();
    /// <summary>ARP requests and neighbour solicitations answered for L3 tenants (proxy ARP/ND).</summary>
    public long Proxied => Volatile.Read(ref ProxiedField);
    internal long ProxiedField;
    /// <summary>The port's XDP program and its claimed-MAC map.</summary>
    public ClaimedMacSteering? Steering { get; internal set; }
    /// <summary>How its steering program is attached (null while a reload swaps it).</summary>
    public Xdp.XdpAttachMode? SteeringMode => Steering?.Mode;
    /// <summary>Its AF_XDP sockets (engine port <see cref="Index"/>), one per queue, queue w's owned by worker w.</summary>
    internal IReadOnlyList<Xsk.XskPort> Sockets { get; set; } = [];
    /// <summary>Copies of group frames the flooder sent into this port's L2 pairs (one lost to a full queue is not one).</summary>
    public long Flooded => Volatile.Read(ref FloodedField);
    /// <summary>Unicast frames that reached AF_XDP but matched no pair (e.g. a MAC forgotten meanwhile).</summary>
    public long Unclaimed => Volatile.Read(ref UnclaimedField);
    internal long FloodedField, UnclaimedField;
}
