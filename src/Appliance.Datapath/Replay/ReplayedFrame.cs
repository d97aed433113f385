namespace Appliance.Datapath.Replay;

/// <summary>One program run while a frame was replayed: its name, raw return value and fault (null if none).</summary>
public sealed record ProgramRun(string Program, long Verdict, string? Fault);

/// <summary>What replay made of one frame: the decision line (<see cref="Capture.DecisionText"/>), the programs in
/// run order, the trace_printk lines, and the frame as it leaves (null when dropped) and where to.</summary>
public sealed record ReplayedFrame(int Index, string Decision, string Verdict, string? Reason, string? Target,
    IReadOnlyList<ProgramRun> Programs, IReadOnlyList<string> Trace, byte[]? Output)
{
    /// <summary>For a broadcast or multicast frame received on a port: the flooder's copies, one decision per L2 pair
    /// on that port (each through the pair's primary chain). Empty otherwise.</summary>
    public IReadOnlyList<ReplayedFrame> Copies { get; init; } = [];
}
