using Appliance.Bpf.Elf;

namespace Appliance.Bpf.Objects;

/// <summary>One function in a code section: a program entry point or a subprogram, found through its
/// STT_FUNC symbol. <see cref="Start"/> and <see cref="Length"/> count instructions (8 bytes).</summary>
public sealed record BpfFunction(string Name, ElfSection Section, int Start, int Length)
{
    public bool Contains(int index) => index >= Start && index < Start + Length;
}
