namespace Appliance.Datapath.Xdp;

/// <summary>One test of a steering program (<see cref="XdpSteeringProgram"/>): it emits code that either jumps to a
/// verdict (<see cref="XdpProgramBuilder.Verdict"/>) or falls through to the next rule. A rule checks the frame's
/// length itself before reading it (<see cref="XdpProgramBuilder.IfShorterThan"/>) and owns any map it looks up.</summary>
public interface IXdpSteeringRule
{
    void Emit(XdpProgramBuilder code);
}
