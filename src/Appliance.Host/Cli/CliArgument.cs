namespace Appliance.Host.Cli;

/// <summary>One positional argument of a verb, in order. <see cref="Optional"/> ones may be left off from the end;
/// <see cref="Choices"/> are checked and completed; <see cref="Completion"/> completes anything else.</summary>
public sealed record CliArgument(string Name, string Help)
{
    public bool Optional { get; init; }
    public string[] Choices { get; init; } = [];
    public CliCompletion Completion { get; init; }

    public string Synopsis => Choices.Length > 0 ? string.Join('|', Choices) : Name;
}
