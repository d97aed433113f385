using Appliance.Config;
using Appliance.Datapath.Pairs;
using Appliance.Datapath.Forwarding;
using Appliance.Datapath.Programs;

namespace Appliance.Datapath.Runtime;

/// <summary>Which side of a pair: the primary (world → tenant, BPF_NETKIT_PRIMARY) or the peer (tenant → world,
/// BPF_NETKIT_PEER).</summary>
public enum PairSideKind
{
    Primary,
    Peer,
}

/// <summary>One side of a running pair: its default policy and scrub mode from the config, its live program chain
/// (bpf_mprog rules, changed over the control socket) and its counters. Policy and scrub change with a reload
/// (written on the forwarding worker between batches).</summary>
public sealed class PairSide(PairSideKind kind, PairSideConfig config)
{
    public PairSideKind Kind { get; } = kind;
    public SidePolicy Policy { get; internal set; } = config.Policy;
    public ScrubMode Scrub { get; internal set; } = config.Scrub;
    public ProgramChain<RuntimeProgram> Chain { get; } = new();
    public SideCounters Counters { get; } = new();
}
