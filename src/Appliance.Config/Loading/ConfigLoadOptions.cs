namespace Appliance.Config;

/// <summary>Optional checks beyond the file itself.</summary>
public sealed record ConfigLoadOptions
{
    /// <summary>When set, each program's object file is checked with it (existence, sections, maps); null skips object files.</summary>
    public IProgramObjectInspector? ProgramObjects { get; init; }

    /// <summary>When set, object files are looked up by file name in this folder instead of relative to the config.</summary>
    public string? ObjectDirectory { get; init; }
}
