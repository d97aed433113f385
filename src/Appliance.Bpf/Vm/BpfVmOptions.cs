namespace Appliance.Bpf.Vm;

/// <summary>Per-VM settings: the instruction budget per run, the value of <c>bpf_get_smp_processor_id</c>,
/// where <c>bpf_trace_printk</c> lines go (rate-limited to <see cref="TraceLinesPerSecond"/>), and the
/// VM's processor number.</summary>
public sealed class BpfVmOptions
{
    public const long DefaultInstructionBudget = 1_000_000;

    public long InstructionBudget { get; init; } = DefaultInstructionBudget;
    /// <summary>The CPU slot this VM's runs are: what bpf_get_smp_processor_id returns and the slot per-CPU
    /// maps use during a run (<see cref="Maps.BpfCpu.Current"/> is set to it when a run starts; in a compiled run, at its first runtime call: the code's own lookups read it from the JIT state).</summary>
    public uint ProcessorId { get; init; }

    /// <summary>The interfaces' MTUs for bpf_check_mtu (the datapath gives its ports' and pairs'); by default every
    /// interface has 1500.</summary>
    public Helpers.IInterfaceMtus InterfaceMtus { get; init; } = Helpers.IInterfaceMtus.Default;

    /// <summary>The board's routing, neighbour and interface tables for bpf_fib_lookup and bpf_redirect_neigh
    /// (<see cref="Routing.IFibTables"/>). Null: there are none — bpf_fib_lookup answers -ENODEV (no interface) and a
    /// bpf_redirect_neigh finds no neighbour.</summary>
    public Routing.IFibTables? FibTables { get; init; }
    public Action<string>? TraceSink { get; init; }
    public int TraceLinesPerSecond { get; init; } = 50;

    /// <summary>Run programs the JIT compiled as native code (the interpreter runs the rest). Off by default
    /// here; the appliance turns it on unless the config or <c>--no-jit</c> says otherwise.</summary>
    public bool UseJit { get; init; }
}
