namespace Appliance.Host.Cli;

/// <summary>One `--name [VALUE]` option of a verb. A null <see cref="Value"/> makes it a flag. <see cref="Choices"/>
/// are checked by the parser and offered by completion; <see cref="Completion"/> says what else completes its value.
/// <see cref="Forwarded"/> options are passed on to the running appliance with the verb's arguments. A <see cref="Required"/>
/// option is shown without brackets in the usage and the parser refuses a command line without it.</summary>
public sealed record CliOption(string Name, string Help)
{
    public string? Value { get; init; }
    public string[] Choices { get; init; } = [];
    public CliCompletion Completion { get; init; }
    public string? Default { get; init; }
    public string? Excludes { get; init; }
    public bool Forwarded { get; init; }
    public bool Required { get; init; }

    public bool IsFlag => Value is null;

    public string Synopsis => IsFlag ? Name : $"{Name} {(Choices.Length > 0 ? string.Join('|', Choices) : Value)}";
}
