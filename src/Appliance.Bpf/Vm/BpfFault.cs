namespace Appliance.Bpf.Vm;

/// <summary>Why a run stopped early. Any value other than <see cref="None"/> means the program was stopped by
/// a runtime check; the datapath treats it as DROP and counts the reason.</summary>
public enum BpfFault : byte
{
    None = 0,
    /// <summary>A load, store or helper argument pointed outside every region the program may touch.</summary>
    OutOfBounds,
    /// <summary>A store to read-only memory (a read-only <c>__sk_buff</c> field, <c>.rodata</c>).</summary>
    ReadOnlyWrite,
    /// <summary>An atomic operation on an address not aligned to its size.</summary>
    MisalignedAtomic,
    /// <summary>The per-run instruction budget ran out (e.g. an endless loop).</summary>
    BudgetExhausted,
    /// <summary>More than 8 nested bpf-to-bpf call frames.</summary>
    CallDepthExceeded,
    /// <summary>A helper was called with arguments the kernel verifier would never allow (not a map, bad pointer…).</summary>
    HelperMisuse,
    /// <summary><c>callx</c> to a helper id the helper table does not define.</summary>
    UnknownHelper,
    /// <summary>Execution reached an instruction slot that is not executable (cannot happen after verification).</summary>
    InvalidInstruction,
}
