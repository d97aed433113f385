using Appliance.Datapath.Runtime;
using Appliance.Datapath.Capture;

namespace Appliance.Datapath.Replay;

/// <summary>Where replayed frames enter: received on a board port (classified like the datapath does), sent by a
/// pair's tenant (its peer side), or handed straight to a pair's primary side.</summary>
public readonly record struct ReplayInput(int Port, PairRuntime? Pair, PairSideKind Side)
{
    public static ReplayInput AtPort(int port) => new(port, null, default);
    public static ReplayInput AtSide(PairRuntime pair, PairSideKind side) => new(-1, pair, side);

    /// <summary>The capture point's name as a capture file's interface names it: PORT or PAIR/SIDE.</summary>
    public string Name(RuntimeTopology topology) =>
        Pair is null ? topology.Ports[Port].Name : DecisionText.SideName(Pair, Side);
}
