namespace Appliance.Bpf.Helpers;

/// <summary>What <c>bpf_tail_call</c> needs from a <c>BPF_MAP_TYPE_PROG_ARRAY</c> map (the shape of
/// <c>Maps.ProgArrayMap</c>): the program stored at an index, as the index of a program of the same object
/// (resolved through <c>LoadedProgram.TailCallTargets</c>).</summary>
public interface IBpfProgramArray
{
    bool TryGetProgram(uint index, out int program);
}
