namespace Appliance.Config;

/// <summary>One initial map element.</summary>
public sealed record MapEntryConfig
{
    public required MapDatum Key { get; init; }

    public required MapDatum Value { get; init; }
}
