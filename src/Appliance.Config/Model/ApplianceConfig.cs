using System.Text.Json.Serialization;

namespace Appliance.Config;

/// <summary>The root of a MetaAppliance config file (README "Config reference").</summary>
public sealed record ApplianceConfig
{
    /// <summary>Editors' schema link ("$schema"); ignored by the appliance.</summary>
    [JsonPropertyName("$schema")]
    public string? Schema { get; init; }

    /// <summary>Board profile name (a folder under board/), e.g. "qemu-virt".</summary>
    public required string Board { get; init; }

    /// <summary>Unix socket of the control interface.</summary>
    public string ControlSocket { get; init; } = DefaultControlSocket;

    public IReadOnlyList<PortConfig> Ports { get; init; } = [];

    public IReadOnlyList<PairConfig> Pairs { get; init; } = [];

    public IReadOnlyList<ProgramConfig> Programs { get; init; } = [];

    public LedSettings Leds { get; init; } = new();

    public const string DefaultControlSocket = "/run/meta-appliance/control.sock";
}
