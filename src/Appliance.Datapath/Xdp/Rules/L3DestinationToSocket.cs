using Appliance.Bpf.Isa;
using static Appliance.Datapath.Xdp.XdpProgramBuilder;

namespace Appliance.Datapath.Xdp.Rules;

/// <summary>Unicast frames to the port's own MAC whose IPv4/IPv6 destination is in an L3 tenant's prefix go to the
/// socket; every other frame falls through (the board's own traffic stays the kernel's).
/// <code>
/// if (dst MAC == port MAC &amp;&amp; ethertype == IPv4 &amp;&amp; lpm_lookup(&amp;l3_v4, {32, dst IP}))  → socket
/// if (dst MAC == port MAC &amp;&amp; ethertype == IPv6 &amp;&amp; lpm_lookup(&amp;l3_v6, {128, dst IP})) → socket
/// </code></summary>
public sealed class L3DestinationToSocket(Config.MacAddress portMac, L3PrefixMaps maps) : IXdpSteeringRule
{
    public void Emit(XdpProgramBuilder code)
    {
        var next = code.NewLabel();
        var v4 = code.NewLabel();
        var mac = portMac.GetBytes();
        code.IfShorterThan(14, next);
        for (short i = 0; i < 6; i += 2)
            code.Load(BpfOpcodes.SizeH, R5, Data, i)
                .JumpIf(BpfOpcodes.JmpJne, R5, mac[i] | mac[i + 1] << 8, next);
        code.Load(BpfOpcodes.SizeH, R5, Data, 12)
            .JumpIf(BpfOpcodes.JmpJeq, R5, 0x0008, v4) // ETH_P_IP, read little-endian
            .JumpIf(BpfOpcodes.JmpJne, R5, 0xdd86, next)
            .IfShorterThan(54, next);
        L3Lookup.Emit(code, maps.V6Fd, 16, 38);
        code.Goto(next)
            .Mark(v4)
            .IfShorterThan(34, next);
        L3Lookup.Emit(code, maps.V4Fd, 4, 30);
        code.Mark(next);
    }
}
