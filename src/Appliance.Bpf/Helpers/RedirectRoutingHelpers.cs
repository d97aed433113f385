using System.Buffers.Binary;
using Appliance.Bpf.Context;
using Appliance.Bpf.Routing;
using Appliance.Bpf.Vm;

namespace Appliance.Bpf.Helpers;

/// <summary>bpf_redirect_neigh (152) and bpf_redirect_peer (155), as net/core/filter.c: both only record the target
/// and return TC_ACT_REDIRECT (TC_ACT_SHOT for flags other than 0, or redirect_neigh's plen between 1 and 19); the
/// datapath does the rest after the program. redirect_neigh: out of interface <c>ifindex</c> with the Ethernet
/// header rebuilt for the next hop — the one in struct bpf_redir_neigh {u32 nh_family; be32/in6 address} when plen
/// is given, else the route to the frame's destination — from the neighbour table. redirect_peer: into the tenant
/// of the pair whose primary end is <c>ifindex</c>, allowed only where the kernel allows it (tc ingress).</summary>
internal static class RedirectRoutingHelpers
{
    /// <summary>sizeof(struct bpf_redir_neigh).</summary>
    public const int NeighParamsSize = 20;

    public static HelperOutcome RedirectNeigh(BpfVm vm)
    {
        int plen = (int)(uint)vm.Argument(3);
        if (plen < 0) return vm.Fail(BpfFault.HelperMisuse);
        if (plen != 0 && plen < NeighParamsSize || vm.Argument(4) != 0) return LinuxHelperTable.Return(vm, TcAction.Shot);
        uint ifindex = (uint)vm.Argument(1);
        if (plen == 0)
        {
            vm.SetRedirect(ifindex, RedirectFlags.Neigh);
            return LinuxHelperTable.Return(vm, TcAction.Redirect);
        }
        if (!vm.TryGetMemory(vm.Argument(2), plen, false, out var p)) return HelperOutcome.Fault;
        var family = (IpFamily)BinaryPrimitives.ReadUInt32LittleEndian(p);
        vm.SetRedirect(ifindex, RedirectFlags.Neigh | RedirectFlags.NextHop);
        vm.SetRedirectNextHop(BinaryPrimitives.ReadUInt32LittleEndian(p) is 2 or 10 ? family : IpFamily.Unspec, p.Slice(4, 16));
        return LinuxHelperTable.Return(vm, TcAction.Redirect);
    }

    public static HelperOutcome RedirectPeer(BpfVm vm)
    {
        if (vm.Argument(2) != 0) return LinuxHelperTable.Return(vm, TcAction.Shot);
        vm.SetRedirect((uint)vm.Argument(1), RedirectFlags.Peer);
        return LinuxHelperTable.Return(vm, TcAction.Redirect);
    }
}
