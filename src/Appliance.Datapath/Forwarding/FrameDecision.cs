using System.Runtime.CompilerServices;
using Appliance.Datapath.Pairs;
using Appliance.Datapath.Runtime;
using Appliance.Datapath.Programs;

namespace Appliance.Datapath.Forwarding;

/// <summary>How the netkit pipeline decided the current frame, written as it runs (a few field stores per frame,
/// no allocation): the pair side it entered first, the side that decided last (they differ after a redirect into
/// another pair), the program whose verdict decided (null: the side's policy), the verdict, the drop reason and the
/// redirect target. Capture comments and replay reports read it after the decision.
/// <para>Its pair and program references are stored only when they change (a frame of the same flow as the last
/// finds them there already) and read through a mask of those the current frame set: a store of a reference into
/// the pipeline, an object on the heap, costs a GC write barrier call, three per frame otherwise. So a decision keeps
/// the last references it was given until others replace them (<see cref="Clear"/> forgets them too).</para></summary>
public struct FrameDecision
{
    private const byte EntrySet = 1, PairSet = 2, ProgramSet = 4;

    private PairRuntime? _entryPair;
    private PairRuntime? _pair;
    private RuntimeProgram? _program;
    /// <summary>Which of the references above the current frame set.</summary>
    private byte _set;

    /// <summary>The pair the frame entered first (null: it entered none).</summary>
    public readonly PairRuntime? EntryPair => (_set & EntrySet) != 0 ? _entryPair : null;
    public PairSideKind EntrySide;
    /// <summary>The pair whose side decided last (null: none).</summary>
    public readonly PairRuntime? Pair => (_set & PairSet) != 0 ? _pair : null;
    public PairSideKind Side;
    /// <summary>The program whose verdict decided (null: the side's policy, or no side decided).</summary>
    public readonly RuntimeProgram? Program => (_set & ProgramSet) != 0 ? _program : null;
    public NetkitVerdict Verdict;
    public bool Dropped;
    public PairDropReason DropReason;
    /// <summary>ifindex a program gave bpf_redirect, bpf_redirect_neigh or bpf_redirect_peer (0: none).</summary>
    public uint RedirectIfindex;
    /// <summary>Which of them set <see cref="RedirectIfindex"/>.</summary>
    public RedirectHelper RedirectHelper;
    public int Redirects;

    /// <summary>A new frame: nothing decided yet (the references stay stored, unread, for the next frame to find).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Begin()
    {
        _set = 0;
        EntrySide = default;
        Side = default;
        Verdict = default;
        Dropped = false;
        DropReason = default;
        RedirectIfindex = 0;
        RedirectHelper = default;
        Redirects = 0;
    }

    /// <summary>Nothing decided, and no reference kept (what a reload dropped becomes garbage).</summary>
    internal void Clear() => this = default;

    /// <summary>The frame enters <paramref name="side"/> of <paramref name="pair"/> (the first such call: its entry).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Enter(PairRuntime pair, PairSideKind side)
    {
        if ((_set & EntrySet) == 0)
        {
            if (!ReferenceEquals(_entryPair, pair)) _entryPair = pair;
            EntrySide = side;
        }
        if (!ReferenceEquals(_pair, pair)) _pair = pair;
        Side = side;
        _set |= EntrySet | PairSet;
    }

    /// <summary>The program whose verdict decided (null: the side's policy).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void DecidedBy(RuntimeProgram? program)
    {
        if (program is null)
        {
            _set &= unchecked((byte)~ProgramSet);
            return;
        }
        if (!ReferenceEquals(_program, program)) _program = program;
        _set |= ProgramSet;
    }

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
