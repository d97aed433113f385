namespace Appliance.Config;

/// <summary>A pair present in both configs, and which of its parts differ.</summary>
public sealed record PairChange(string Name, PairChangeParts Parts)
{
    /// <summary>The pair must be re-created (see <see cref="PairChangeParts.Interface"/>).</summary>
    public bool IsInterfaceLevel => Parts.HasFlag(PairChangeParts.Interface);
}
