namespace Appliance.Bpf.Helpers;

/// <summary>The flags a run's redirect carries (<see cref="Vm.BpfRunResult.RedirectFlags"/>): BPF_F_INGRESS from
/// bpf_redirect, and the kernel's internal BPF_F_NEIGH / BPF_F_PEER / BPF_F_NEXTHOP (net/core/filter.c) that say the
/// target came from bpf_redirect_neigh (with an explicit next hop) or bpf_redirect_peer.</summary>
public static class RedirectFlags
{
    public const ulong Ingress = 1, Neigh = 1UL << 16, Peer = 1UL << 17, NextHop = 1UL << 18;
}
