namespace Appliance.Config;

/// <summary>The outcome of loading a config: the model when valid, otherwise every error found.</summary>
public sealed record ConfigLoadResult
{
    /// <summary>The config; null unless it is valid.</summary>
    public ApplianceConfig? Config { get; init; }

    public IReadOnlyList<ConfigError> Errors { get; init; } = [];

    /// <summary>Folder of the config file; program object paths are relative to it.</summary>
    public string BaseDirectory { get; init; } = ".";

    /// <summary>Where each JSON path starts (null when the file could not be parsed).</summary>
    public ConfigSourceMap? SourceMap { get; init; }

    /// <summary>The bytes <see cref="ConfigLoader.LoadFile"/> read and loaded (whatever they held), so what runs and
    /// what a rollback or the last good copy keeps are one read; null when the file could not be read.</summary>
    public byte[]? Bytes { get; init; }

    public bool IsValid => Config is not null && Errors.Count == 0;
}
