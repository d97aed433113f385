using System.Collections.Frozen;

namespace Appliance.Datapath.Runtime;

/// <summary>The appliance's fixed shape while it runs: ports first, then the pairs' primary ends, in engine port
/// order; and which ifindex of the appliance's namespace a bpf_redirect may name (a port, or a pair's primary
/// end). Read-only after construction, shared by all workers.</summary>
public sealed class RuntimeTopology
{
    private readonly FrozenDictionary<int, int> _portByIfindex;
    private readonly FrozenDictionary<int, int> _pairByIfindex;

    public RuntimeTopology(PortRuntime[] ports, PairRuntime[] pairs)
    {
        Ports = ports;
        Pairs = pairs;
        _portByIfindex = ports.ToFrozenDictionary(p => p.Ifindex, p => p.Index);
        _pairByIfindex = pairs.ToFrozenDictionary(p => p.PrimaryIfindex, p => p.Index);
        PairByEnginePort = new PairRuntime?[ports.Length + pairs.Length];
        foreach (var p in pairs) PairByEnginePort[p.PrimaryPort] = p;
    }

    public PortRuntime[] Ports { get; }
    public PairRuntime[] Pairs { get; }
    /// <summary>The pair whose primary end is engine port i (null for board ports).</summary>
    public PairRuntime?[] PairByEnginePort { get; }
    public int EnginePortCount => PairByEnginePort.Length;

    public bool TryPort(uint ifindex, out int port) => _portByIfindex.TryGetValue((int)ifindex, out port);
    public bool TryPairPrimary(uint ifindex, out int pair) => _pairByIfindex.TryGetValue((int)ifindex, out pair);

    /// <summary>ifindex of an engine port (where the flooder transmits with AF_PACKET).</summary>
    public int IfindexOfEnginePort(int enginePort)
    {
        if (enginePort < Ports.Length) return Ports[enginePort].Ifindex;
        return PairByEnginePort[enginePort]!.PrimaryIfindex;
    }
}
