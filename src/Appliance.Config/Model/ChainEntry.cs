namespace Appliance.Config;

/// <summary>One program in a side's chain.</summary>
public sealed record ChainEntry
{
    /// <summary>Name of an entry in the config's programs.</summary>
    public required string Program { get; init; }
}
