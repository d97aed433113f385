namespace Appliance.Host.Cli;

/// <summary>What <see cref="CliParser"/> made of a verb's arguments: option values by name, positionals in order,
/// and <see cref="Forward"/>, the positionals and forwarded options in their original order (for the appliance).</summary>
public sealed class CliArgs
{
    private readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);

    public List<string> Positionals { get; } = [];
    public List<string> Forward { get; } = [];

    internal void Set(string name, string? value) => _options[name] = value;

    public bool Has(string name) => _options.ContainsKey(name);

    public string? Value(string name) => _options.TryGetValue(name, out var v) ? v : null;

    public string? Positional(int index) => index < Positionals.Count ? Positionals[index] : null;
}
