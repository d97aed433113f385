using Appliance.Bpf.Isa;

namespace Appliance.Datapath.Xdp.Rules;

/// <summary><c>if (frame shorter than 14 bytes || dst MAC is a group address) return XDP_PASS;</c> — runts and
/// broadcast/multicast frames go to the kernel (the flooder copies group frames to the port's L2 pairs).</summary>
public sealed class GroupFramesToKernel : IXdpSteeringRule
{
    public void Emit(XdpProgramBuilder code)
    {
        var kernel = code.Verdict(XdpVerdict.ToKernel);
        code.IfShorterThan(14, kernel)
            .Load(BpfOpcodes.SizeB, XdpProgramBuilder.R5, XdpProgramBuilder.Data, 0)
            .AndImm(XdpProgramBuilder.R5, 1) // the I/G bit of the destination
            .JumpIf(BpfOpcodes.JmpJne, XdpProgramBuilder.R5, 0, kernel);
    }
}
