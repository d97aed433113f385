using Appliance.Bpf.Context;

namespace Appliance.Bpf.Vm;

/// <summary>The outcome of one run: the full 64-bit <see cref="R0"/>, the <see cref="Fault"/> that stopped it (if
/// any) and at which instruction index, the target recorded by <c>bpf_redirect</c>, and how many instructions
/// ran. <see cref="Verdict"/> decodes r0 as tc does: <c>(int)(uint)r0</c>.</summary>
public readonly record struct BpfRunResult(
    ulong R0,
    BpfFault Fault,
    int FaultInstruction,
    uint RedirectIfindex,
    ulong RedirectFlags,
    long InstructionsExecuted)
{
    public int Verdict => (int)(uint)R0;
    public bool Faulted => Fault != BpfFault.None;
}
