using Appliance.Bpf.Isa;
using static Appliance.Datapath.Xdp.XdpProgramBuilder;

namespace Appliance.Datapath.Xdp.Rules;

/// <summary>ARP requests and IPv6 neighbour solicitations whose target is an L3 tenant's address go to the socket
/// (the datapath answers them with the port's MAC); every other frame falls through. Runs before the group-frame
/// rule, since both are broadcast/multicast.
/// <code>
/// if (ethertype == ARP &amp;&amp; op == request &amp;&amp; lpm_lookup(&amp;l3_v4, {32, target IP}))           → socket
/// if (ethertype == IPv6 &amp;&amp; next header == ICMPv6 &amp;&amp; type == 135 &amp;&amp; lpm_lookup(&amp;l3_v6, {128, target})) → socket
/// </code></summary>
public sealed class ProxiedNeighbourRequestsToSocket(L3PrefixMaps maps) : IXdpSteeringRule
{
    public void Emit(XdpProgramBuilder code)
    {
        var next = code.NewLabel();
        var v6 = code.NewLabel();
        code.IfShorterThan(14, next)
            .Load(BpfOpcodes.SizeH, R5, Data, 12)
            .JumpIf(BpfOpcodes.JmpJne, R5, 0x0608, v6) // ETH_P_ARP, read little-endian
            .IfShorterThan(42, next)
            .Load(BpfOpcodes.SizeH, R5, Data, 20)
            .JumpIf(BpfOpcodes.JmpJne, R5, 0x0100, next); // ARPOP_REQUEST
        L3Lookup.Emit(code, maps.V4Fd, 4, 38);
        code.Goto(next)
            .Mark(v6)
            .JumpIf(BpfOpcodes.JmpJne, R5, 0xdd86, next) // ETH_P_IPV6
            .IfShorterThan(78, next)
            .Load(BpfOpcodes.SizeB, R5, Data, 20)
            .JumpIf(BpfOpcodes.JmpJne, R5, 58, next) // ICMPv6 (no extension headers)
            .Load(BpfOpcodes.SizeB, R5, Data, 54)
            .JumpIf(BpfOpcodes.JmpJne, R5, 135, next); // neighbour solicitation
        L3Lookup.Emit(code, maps.V6Fd, 16, 62);
        code.Mark(next);
    }
}
