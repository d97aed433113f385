namespace Appliance.Config;

/// <summary>One section of an eBPF object file, with optional initial map contents.</summary>
public sealed record ProgramConfig
{
    public required string Name { get; init; }

    /// <summary>Path of the ELF object, relative to the config file's folder (or absolute).</summary>
    public required string Object { get; init; }

    /// <summary>ELF section holding the program, e.g. "tc", "netkit/peer", "netkit/primary".</summary>
    public required string Section { get; init; }

    /// <summary>Initial contents per map name, written in order when the object loads.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<MapEntryConfig>> Maps { get; set; } =
        new Dictionary<string, IReadOnlyList<MapEntryConfig>>();
}
