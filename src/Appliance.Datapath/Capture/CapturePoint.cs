using Appliance.Datapath.Runtime;
using Appliance.Datapath.Forwarding;

namespace Appliance.Datapath.Capture;

/// <summary>Where a capture looks: a board port (frames it received: inbound; frames forwarded to it: outbound) or
/// one side of a pair (frames that entered the side: inbound; what left it: outbound). One pcapng interface each,
/// named PORT or PAIR/SIDE.</summary>
public sealed class CapturePoint
{
    private CapturePoint(string name, int port, PairRuntime? pair, PairSideKind side)
    {
        Name = name;
        Port = port;
        Pair = pair;
        Side = side;
    }

    public string Name { get; }
    /// <summary>Engine port index of a board port; -1 for a pair side.</summary>
    public int Port { get; }
    public PairRuntime? Pair { get; }
    public PairSideKind Side { get; }

    public static CapturePoint AtPort(PortRuntime port) => new(port.Name, port.Index, null, default);
    public static CapturePoint AtSide(PairRuntime pair, PairSideKind side) => new(DecisionText.SideName(pair, side), -1, pair, side);

    /// <summary>The frame arrived at this point.</summary>
    public bool In(int ingress, in FrameDecision d) => Pair is null ? ingress == Port : d.Touched(Pair, Side);

    /// <summary>The frame, forwarded to <paramref name="target"/>, leaves through this point.</summary>
    public bool Out(int target, in FrameDecision d) => Pair is null ? target == Port : d.Touched(Pair, Side);
}

/// <summary>Which decisions a capture keeps.</summary>
[Flags]
public enum CaptureVerdicts
{
    Pass = 1,
    Drop = 2,
    Redirect = 4,
    All = Pass | Drop | Redirect,
}
