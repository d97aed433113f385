using Appliance.Datapath.Pairs;
using Appliance.Datapath.Runtime;
using Appliance.Datapath.Programs;

namespace Appliance.Datapath.Forwarding;

/// <summary>How the netkit pipeline decided the current frame, written as it runs (a few field stores per frame,
/// no allocation): the pair side it entered first, the side that decided last (they differ after a redirect into
/// another pair), the program whose verdict decided (null: the side's policy), the verdict, the drop reason and the
/// redirect target. Capture comments and replay reports read it after the decision.</summary>
public struct FrameDecision
{
    public PairRuntime? EntryPair;
    public PairSideKind EntrySide;
    public PairRuntime? Pair;
    public PairSideKind Side;
    public RuntimeProgram? Program;
    public NetkitVerdict Verdict;
    public bool Dropped;
    public PairDropReason DropReason;
    /// <summary>ifindex a program gave bpf_redirect (0: none).</summary>
    public uint RedirectIfindex;
    public int Redirects;

    /// <summary>True when the frame entered <paramref name="pair"/>'s <paramref name="side"/> (first or last side).</summary>
    public readonly bool Touched(PairRuntime pair, PairSideKind side) =>
        (ReferenceEquals(EntryPair, pair) && EntrySide == side) || (ReferenceEquals(Pair, pair) && Side == side);
}

/// <summary>Sees every program run of a pipeline (replay lists them per frame); null in the datapath.</summary>
public interface IProgramRunObserver
{
    void Ran(RuntimeProgram program, in Appliance.Bpf.Vm.BpfRunResult result);
}
