using Appliance.Bpf.Vm;

namespace Appliance.Bpf.Helpers;

/// <summary>What a helper call did to the run.</summary>
public enum HelperOutcome : byte
{
    /// <summary>r0 holds the result; continue with the next instruction.</summary>
    Continue,
    /// <summary>End the run now with r0 as the result (the conformance suite's <c>unwind</c>).</summary>
    Stop,
    /// <summary>A successful <c>bpf_tail_call</c>: the VM switches to the pending program.</summary>
    TailCall,
    /// <summary>The helper faulted the run (the VM already recorded why).</summary>
    Fault,
    /// <summary>bpf_loop / bpf_for_each_map_elem: the prepared callback is to be called (by the interpreter, or by
    /// compiled code for bpf_for_each_map_elem).</summary>
    Callback,
}

/// <summary>A set of helpers by static id: the verifier asks <see cref="IsDefined"/> at load, the VM calls
/// <see cref="Invoke"/> for <c>call imm</c>. Arguments are r1–r5 of <paramref name="vm"/>, the result goes
/// to r0; r1–r5 are left as they were (programs may not read them after a call, the verifier enforces it).</summary>
public abstract class BpfHelperTable
{
    public abstract bool IsDefined(int helperId);

    /// <summary>A readable name for messages, e.g. "map_lookup_elem".</summary>
    public abstract string NameOf(int helperId);

    public abstract HelperOutcome Invoke(int helperId, BpfVm vm);

    /// <summary>Why a helper this table does not define is refused (for the verifier's message), or null.</summary>
    public virtual string? WhyRefused(int helperId) => null;

    /// <summary>What the verifier checks at calls of this helper: the memory it reads or writes through its arguments,
    /// its flags, a constant string (<see cref="HelperArgumentRule"/>); null when it takes no memory the verifier
    /// follows.</summary>
    public virtual HelperArgumentRule? ArgumentRule(int helperId) => null;
}
