using Appliance.Datapath.Xdp;

namespace Appliance.Host.Init;

/// <summary>How one <see cref="ApplianceHost"/> runs: which config, where program objects and the control socket
/// are, and the few things that differ between `run` (a service on a PC or server) and `init` (PID 1 on a board).</summary>
public sealed record ApplianceHostOptions
{
    public required string ConfigPath { get; init; }

    /// <summary>Program objects by file name from this folder instead of relative to the config (`--objects`).</summary>
    public string? ObjectDirectory { get; init; }

    /// <summary>Overrides the config's <c>controlSocket</c> (`--socket`).</summary>
    public string? SocketPath { get; init; }

    public XdpModePreference XdpMode { get; init; } = XdpModePreference.Auto;

    /// <summary>Every program in the interpreter, whatever the config's <c>jit</c> says (`--no-jit`).</summary>
    public bool NoJit { get; init; }

    /// <summary>Prefix of the host's log lines ("init" on a board, "run" as a service).</summary>
    public string LogName { get; init; } = "run";

    /// <summary>Set the ports up and promiscuous before the datapath starts (a board's NICs come up down).</summary>
    public bool BringUpPorts { get; init; }

    /// <summary>With neither a valid config nor a valid last-good copy: true stays up with the LEDs showing it
    /// until stopped (init must never exit); false fails the start (<see cref="ConfigUnusableException"/>).</summary>
    public bool StayUpWithoutConfig { get; init; }

    /// <summary>A control socket that cannot be opened fails the start (`run`); off, the appliance runs without it (`init`).</summary>
    public bool ControlSocketRequired { get; init; } = true;

    /// <summary>How long the user's config must run healthy before it is saved as config.last-good.json (SPEC §4).</summary>
    public TimeSpan LastGoodAfter { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Follow the config file and its program objects with inotify and reload on a change (debounced,
    /// <see cref="Control.ConfigFileWatcher.DebounceDelay"/>).</summary>
    public bool WatchConfig { get; init; } = true;

    /// <summary>A reload caused by an edit of the file waits this long for `meta-appliance confirm` and is rolled back
    /// otherwise; null (the default for `run`) applies edits without asking.</summary>
    public TimeSpan? ConfirmEdits { get; init; }

    /// <summary>The board profile (board.env) whose LEDs are used when the config has none or is unusable.</summary>
    public string? BoardEnvPath { get; init; }
}
