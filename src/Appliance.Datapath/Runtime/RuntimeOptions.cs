using Appliance.Datapath.Engine;
using Appliance.Datapath.Xdp;

namespace Appliance.Datapath.Runtime;

/// <summary>How <see cref="ApplianceRuntime"/> builds the appliance.</summary>
public sealed record RuntimeOptions
{
    /// <summary>Folder of the config file: program object paths are relative to it.</summary>
    public string ConfigDirectory { get; init; } = ".";
    /// <summary>When set, objects are looked up by file name here instead (e.g. out/programs).</summary>
    public string? ObjectDirectory { get; init; }
    public XdpModePreference XdpMode { get; init; } = XdpModePreference.Auto;
    /// <summary>Remove what a killed earlier run left behind before building (tagged interfaces and namespaces).</summary>
    public bool SweepStale { get; init; } = true;
    public EngineOptions? Engine { get; init; }
    /// <summary>The watcher of the appliance's own namespace to share (the caller starts it before and disposes it
    /// after the runtime: the host's port carrier follows it from before the datapath starts); null: the runtime
    /// starts its own.</summary>
    public Links.LinkWatcher? LinkWatcher { get; init; }
    /// <summary>How long a learned source MAC stays claimed without a frame from it (null: 300 s, see
    /// <see cref="PairFrameHandler.DefaultLearnAgeing"/>).</summary>
    public TimeSpan? LearnAgeing { get; init; }
    /// <summary>Run every program in the interpreter even when the config asks for the JIT (`--no-jit`).</summary>
    public bool NoJit { get; init; }
    /// <summary>Called before each reconcile step is applied (tests inject a failure by throwing here).</summary>
    public Action<Reconcile.PlanStep>? BeforeStep { get; init; }
}
