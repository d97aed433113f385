namespace Appliance.Config;

/// <summary>
/// One problem in a config file: where (file, 1-based line and column, JSON path) and what was expected.
/// Formats as <c>config.json:12:7: $.pairs[0].uplink: unknown port "eth9" (expected one of: eth0, eth1)</c>, with
/// control characters the file, a name or a quoted value holds escaped (<see cref="PrintableText"/>).
/// </summary>
public sealed record ConfigError(string File, int Line, int Column, string JsonPath, string Message)
{
    public override string ToString() => PrintableText.Escape($"{File}:{Line}:{Column}: {JsonPath}: {Message}");
}
