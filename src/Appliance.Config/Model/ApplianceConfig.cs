using System.Text.Json.Serialization;

namespace Appliance.Config;

/// <summary>The root of a MetaAppliance config file (README "Config reference").</summary>
/// <remarks>
/// Required members are <c>init</c>; optional members have setters because System.Text.Json source
/// generation passes default(T) for every missing <c>init</c> member and would wipe their defaults.
/// Treat a loaded config as immutable: build changed copies with <c>with</c>.
/// </remarks>
public sealed record ApplianceConfig
{
    /// <summary>Editors' schema link ("$schema"); ignored by the appliance.</summary>
    [JsonPropertyName("$schema")]
    public string? Schema { get; set; }

    /// <summary>Board profile name (a folder under board/), e.g. "qemu-virt".</summary>
    public required string Board { get; init; }

    /// <summary>Unix socket of the control interface.</summary>
    public string ControlSocket { get; set; } = DefaultControlSocket;

    /// <summary>Group whose members may use the control socket besides root (socket mode 0660, that group);
    /// null: root only (mode 0600).</summary>
    public string? ControlGroup { get; set; }

    public IReadOnlyList<PortConfig> Ports { get; set; } = [];

    public IReadOnlyList<PairConfig> Pairs { get; set; } = [];

    public IReadOnlyList<ProgramConfig> Programs { get; set; } = [];

    public LedSettings Leds { get; set; } = new();

    /// <summary>The Prometheus endpoint; null (the default) serves none.</summary>
    public MetricsConfig? Metrics { get; set; }

    /// <summary>Run programs as native code from the eBPF JIT where the machine has one (x86-64, arm64);
    /// false runs every program in the interpreter. Programs the JIT cannot compile use the interpreter anyway.</summary>
    public bool Jit { get; set; } = true;

    /// <summary>The failsafe button, or null for none.</summary>
    public ButtonConfig? Button { get; set; }

    /// <summary>AF_XDP frames and ring sizes per port (board defaults when left out).</summary>
    public MemorySettings Memory { get; set; } = new();

    /// <summary>Forwarding workers (one per core, queue q of every interface served by worker q mod N), 1..64; null: the
    /// board profile's choice, else every online core (<see cref="WorkerSettings.Resolve"/>). Read at start.</summary>
    public int? Workers { get; set; }

    public const string DefaultControlSocket = "/run/meta-appliance/control.sock";
}
