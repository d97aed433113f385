using Appliance.Bpf.Vm;
using Appliance.Config;
using Appliance.Datapath.Pairs;
using Appliance.Datapath.Forwarding;

namespace Appliance.Datapath.Programs;

/// <summary>A configured program, loaded and verified: what a chain holds. Its maps belong to its
/// <see cref="RuntimeObject"/> and are shared with the object's other programs.</summary>
public sealed class RuntimeProgram(ProgramConfig config, LoadedProgram program, RuntimeObject owner, ProgramCounters? counters = null) : INamedProgram
{
    public string Name => Config.Name;
    /// <summary>Its entry of the running config (a reload that keeps the program, changing only its maps' contents,
    /// gives it the new entry when the reload is applied: <see cref="ProgramSet.TakeConfigs"/>).</summary>
    public ProgramConfig Config { get; internal set; } = config;
    public LoadedProgram Program { get; } = program;
    public RuntimeObject Object { get; } = owner;
    /// <summary>Carried over when a reload replaces the program under the same name.</summary>
    public ProgramCounters Counters { get; } = counters ?? new();
}
