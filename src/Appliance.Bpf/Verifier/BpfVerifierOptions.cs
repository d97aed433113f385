namespace Appliance.Bpf.Verifier;

/// <summary>Verifier settings. <see cref="EntryRegisters"/> is the bit mask of registers the caller sets
/// before the first instruction (tc: r1 = ctx; the conformance suite: r1 = memory, r2 = length); r10 is
/// always set. <see cref="MaxInstructions"/> mirrors BPF_COMPLEXITY_LIMIT_INSNS.</summary>
public sealed class BpfVerifierOptions
{
    public static BpfVerifierOptions TcProgram { get; } = new();

    public static BpfVerifierOptions Conformance { get; } = new() { EntryRegisters = (1 << 1) | (1 << 2), ContextInR1 = false };

    /// <summary>r1 holds a <c>__sk_buff</c> at entry: loads and stores through it follow the kernel's tc rules
    /// (<see cref="Context.SkBuffLayout.CheckAccess"/>).</summary>
    public bool ContextInR1 { get; init; } = true;

    public int EntryRegisters { get; init; } = 1 << 1;
    public int MaxInstructions { get; init; } = 1_000_000;

    /// <summary>Reject instructions no path reaches (the kernel does, so clang never emits them).</summary>
    public bool RejectUnreachable { get; init; } = true;
}
