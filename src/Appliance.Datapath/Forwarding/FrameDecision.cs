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
    /// <summary>ifindex a program gave bpf_redirect, bpf_redirect_neigh or bpf_redirect_peer (0: none).</summary>
    public uint RedirectIfindex;
    /// <summary>Which of them set <see cref="RedirectIfindex"/>.</summary>
    public RedirectHelper RedirectHelper;
    public int Redirects;

    /// <summary>True when the frame entered <paramref name="pair"/>'s <paramref name="side"/> (first or last side).</summary>
    public readonly bool Touched(PairRuntime pair, PairSideKind side) =>
        (ReferenceEquals(EntryPair, pair) && EntrySide == side) || (ReferenceEquals(Pair, pair) && Side == side);
}

/// <summary>The helper that chose a redirect's target.</summary>
public enum RedirectHelper : byte
{
    /// <summary>bpf_redirect: the frame as it is, out of a port or into a pair's primary side.</summary>
    Redirect,
    /// <summary>bpf_redirect_neigh: out of a port with the Ethernet header from the neighbour table.</summary>
    Neigh,
    /// <summary>bpf_redirect_peer: straight into a pair's tenant.</summary>
    Peer,
}

/// <summary>Sees every program run of a pipeline (replay lists them per frame); null in the datapath.</summary>
public interface IProgramRunObserver
{
    void Ran(RuntimeProgram program, in Appliance.Bpf.Vm.BpfRunResult result);
}
