namespace Appliance.Config;

/// <summary>A 1-based line and column in a config file.</summary>
public readonly record struct SourcePosition(int Line, int Column)
{
    public static readonly SourcePosition Start = new(1, 1);

    public override string ToString() => $"line {Line}, column {Column}";
}
