namespace Appliance.Bpf.Verifier;

/// <summary>A program the verifier refuses to load. The message names the section and the program, the instruction
/// index, the disassembled instruction and the reason, e.g.
/// <c>tc (program count): instruction 4 (mov %r10, 0): the frame pointer r10 is read-only</c>.</summary>
public sealed class BpfVerifierException : Exception
{
    public BpfVerifierException(string section, int instructionIndex, string disassembly, string reason)
        : base(instructionIndex >= 0
            ? $"{section}: instruction {instructionIndex} ({disassembly}): {reason}"
            : $"{section}: {reason}")
    {
        Section = section;
        InstructionIndex = instructionIndex;
        Disassembly = disassembly;
        Reason = reason;
    }

    /// <summary>Where: the program's section and name, "tc (program count)".</summary>
    public string Section { get; }

    /// <summary>Slot index of the offending instruction, or -1 for whole-program problems (empty, too long).</summary>
    public int InstructionIndex { get; }

    public string Disassembly { get; }
    public string Reason { get; }
}
