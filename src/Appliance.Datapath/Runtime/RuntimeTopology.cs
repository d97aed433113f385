using System.Collections.Frozen;

namespace Appliance.Datapath.Runtime;

/// <summary>The appliance's shape for a stretch of batches: its ports and pairs, each known by its engine port
/// index (a port's socket, a pair's primary end's socket; the same index names it everywhere: classifier owners,
/// flood lists, chains), and which ifindex of the appliance's namespace a bpf_redirect may name (a port, or a pair's
/// primary end). Immutable: a config change builds a new one and the worker swaps it in between two batches
/// (<see cref="TopologySource"/>); indices of untouched ports and pairs never change.</summary>
public sealed class RuntimeTopology
{
    private readonly FrozenDictionary<int, int> _portByIfindex;
    private readonly FrozenDictionary<int, int> _pairByIfindex;

    /// <summary>bpf_check_mtu's MTU of a port (as configured; the Ethernet default 1500 when the config leaves it),
    /// a pair's primary end or its tenant interface (the pair's MTU, which both ends share); -1 for any other ifindex.
    /// Read from the live config, so an MTU change applies at once.</summary>
    public int MtuOf(uint ifindex)
    {
        if (TryPort(ifindex, out int port)) return PortByEnginePort[port]!.Config.Mtu ?? 1500;
        if (TryPairPrimary(ifindex, out int pair)) return PairByEnginePort[pair]!.Config.Tenant.Mtu;
        foreach (var p in Pairs)
            if (p.TenantIfindex == (int)ifindex) return p.Config.Tenant.Mtu;
        return -1;
    }

    public RuntimeTopology(PortRuntime[] ports, PairRuntime[] pairs)
    {
        Ports = ports;
        Pairs = pairs;
        _portByIfindex = ports.ToFrozenDictionary(p => p.Ifindex, p => p.Index);
        _pairByIfindex = pairs.ToFrozenDictionary(p => p.PrimaryIfindex, p => p.Index);

        int count = Math.Max(ports.Length == 0 ? 0 : ports.Max(p => p.Index) + 1, pairs.Length == 0 ? 0 : pairs.Max(p => p.Index) + 1);
        PairByEnginePort = new PairRuntime?[count];
        PortByEnginePort = new PortRuntime?[count];
        foreach (var p in pairs) PairByEnginePort[p.Index] = p;
        foreach (var p in ports) PortByEnginePort[p.Index] = p;
        L2Addresses = BuildL2Addresses(pairs);
    }

    /// <summary>The addresses L2 tenants are configured with (`tenant.addresses`), each a host entry naming its pair:
    /// what no other tenant may send from or claim in ARP or neighbour discovery (<see cref="Forwarding.AddressGuard"/>).</summary>
    public Routing.PrefixTable<PairRuntime> L2Addresses { get; }

    private static Routing.PrefixTable<PairRuntime> BuildL2Addresses(PairRuntime[] pairs)
    {
        var b = new Routing.PrefixTable<PairRuntime>.Builder();
        foreach (var p in pairs.Where(p => p.Config.Mode == Appliance.Config.PairMode.L2))
            foreach (var a in p.Config.Tenant.Addresses)
            {
                var family = Routing.IpNumbers.Of(a.Address);
                b.TryAdd(family, Routing.IpNumbers.Read(a.Address), family == Appliance.Bpf.Routing.IpFamily.Inet ? 32 : 128, p);
            }
        return b.Build();
    }

    /// <summary>The ports in config order.</summary>
    public PortRuntime[] Ports { get; }

    /// <summary>The pair of any port whose classifier owns <paramref name="mac"/> (configured or learned), other than
    /// <paramref name="except"/>'s: who a frame from that MAC belongs to, wherever it was heard.</summary>
    public bool TryMacOwner(Appliance.Config.MacAddress mac, out int pair, Pairs.L2Classifier? except = null)
    {
        foreach (var port in Ports)
            if (!ReferenceEquals(port.Classifier, except) && port.Classifier.TryOwner(mac, out pair)) return true;
        pair = -1;
        return false;
    }
    /// <summary>The pairs in config order.</summary>
    public PairRuntime[] Pairs { get; }
    /// <summary>The pair whose primary end is engine port i (null for board ports and free indices).</summary>
    public PairRuntime?[] PairByEnginePort { get; }
    /// <summary>The board port that is engine port i (null for pairs' primary ends and free indices).</summary>
    public PortRuntime?[] PortByEnginePort { get; }
    public int EnginePortCount => PairByEnginePort.Length;

    public bool TryPort(uint ifindex, out int port) => _portByIfindex.TryGetValue((int)ifindex, out port);
    public bool TryPairPrimary(uint ifindex, out int pair) => _pairByIfindex.TryGetValue((int)ifindex, out pair);

    /// <summary>ifindex of an engine port (where the flooder transmits with AF_PACKET).</summary>
    public int IfindexOfEnginePort(int enginePort) =>
        PortByEnginePort[enginePort]?.Ifindex ?? PairByEnginePort[enginePort]!.PrimaryIfindex;
}

/// <summary>Where the datapath threads read the current <see cref="RuntimeTopology"/>: once per batch, so a batch
/// runs entirely on one topology. The reconciler publishes a new one on the forwarding worker between batches.</summary>
public sealed class TopologySource(RuntimeTopology initial) : Bpf.Helpers.IInterfaceMtus
{
    /// <summary>bpf_check_mtu's MTUs: the current topology's ports and pairs.</summary>
    public int MtuOf(uint ifindex) => Current.MtuOf(ifindex);

    private RuntimeTopology _current = initial;

    public RuntimeTopology Current
    {
        get => Volatile.Read(ref _current);
        internal set => Volatile.Write(ref _current, value);
    }
}
