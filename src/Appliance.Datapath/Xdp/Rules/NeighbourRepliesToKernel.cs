using Appliance.Bpf.Isa;
using static Appliance.Datapath.Xdp.XdpProgramBuilder;

namespace Appliance.Datapath.Xdp.Rules;

/// <summary>ARP and IPv6 neighbour advertisements that no rule before took (none was for a tenant) go to the kernel,
/// whatever the port's <c>unclaimed</c> says: the board's neighbour table, from which the L3 pairs' next hops and the
/// programs' routing helpers are resolved, needs the answers to the requests the board sends. Every other frame falls
/// through.
/// <code>
/// if (ethertype == ARP)                                                      → kernel
/// if (ethertype == IPv6 &amp;&amp; next header == ICMPv6 &amp;&amp; type == 136 (advertisement)) → kernel
/// </code></summary>
public sealed class NeighbourRepliesToKernel : IXdpSteeringRule
{
    public void Emit(XdpProgramBuilder code)
    {
        var next = code.NewLabel();
        var kernel = code.Verdict(XdpVerdict.ToKernel);
        code.IfShorterThan(14, next)
            .Load(BpfOpcodes.SizeH, R5, Data, 12)
            .JumpIf(BpfOpcodes.JmpJeq, R5, 0x0608, kernel) // ETH_P_ARP, read little-endian
            .JumpIf(BpfOpcodes.JmpJne, R5, 0xdd86, next) // ETH_P_IPV6
            .IfShorterThan(55, next)
            .Load(BpfOpcodes.SizeB, R5, Data, 20)
            .JumpIf(BpfOpcodes.JmpJne, R5, 58, next) // ICMPv6 (no extension headers)
            .Load(BpfOpcodes.SizeB, R5, Data, 54)
            .JumpIf(BpfOpcodes.JmpJeq, R5, 136, kernel) // neighbour advertisement
            .Mark(next);
    }
}
