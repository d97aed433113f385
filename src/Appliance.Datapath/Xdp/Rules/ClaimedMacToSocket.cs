using Appliance.Bpf.Isa;

namespace Appliance.Datapath.Xdp.Rules;

/// <summary><c>if (bpf_map_lookup_elem(&amp;claimed, dst MAC padded to 8 bytes)) → socket</c>: frames to a tenant's
/// MAC go to AF_XDP; others fall through. The map is a hash of <see cref="KeySize"/>-byte keys (the six address
/// bytes, then two zero bytes).</summary>
public sealed class ClaimedMacToSocket(int claimedMapFd) : IXdpSteeringRule
{
    public const int KeySize = 8;

    public void Emit(XdpProgramBuilder code)
    {
        var next = code.NewLabel();
        code.IfShorterThan(14, next);
        for (short i = 0; i < 6; i += 2)
            code.Load(BpfOpcodes.SizeH, XdpProgramBuilder.R5, XdpProgramBuilder.Data, i)
                .Store(BpfOpcodes.SizeH, XdpProgramBuilder.Fp, (short)(i - KeySize), XdpProgramBuilder.R5);
        code.StoreImm(BpfOpcodes.SizeH, XdpProgramBuilder.Fp, -2, 0)
            .LoadMap(XdpProgramBuilder.R1, claimedMapFd)
            .MovReg(XdpProgramBuilder.R2, XdpProgramBuilder.Fp)
            .AddImm(XdpProgramBuilder.R2, -KeySize)
            .Call(XdpProgramBuilder.HelperMapLookupElem)
            .JumpIf(BpfOpcodes.JmpJne, XdpProgramBuilder.R0, 0, code.Verdict(XdpVerdict.ToSocket))
            .Mark(next);
    }
}
