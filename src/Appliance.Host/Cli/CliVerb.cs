namespace Appliance.Host.Cli;

/// <summary>The definition of one `meta-appliance VERB`: what `--help`, the parser, the man page and the bash
/// completion all read. <see cref="Hidden"/> verbs work but are left out of the usage, man page and completion.</summary>
public sealed record CliVerb(string Name, string Summary)
{
    public string Description { get; init; } = "";
    public CliOption[] Options { get; init; } = [];
    public CliArgument[] Arguments { get; init; } = [];
    public bool Hidden { get; init; }

    /// <summary>Exit codes and other notes printed after the options.</summary>
    public string Exit { get; init; } = "Exit 0 on success, 1 on failure, 2 on bad usage.";

    public string Synopsis
    {
        get
        {
            var parts = new List<string> { Name };
            int optionalDepth = 0;
            foreach (var a in Arguments)
            {
                if (a.Optional) { parts.Add("[" + a.Synopsis); optionalDepth++; }
                else parts.Add(a.Synopsis);
            }
            if (optionalDepth > 0) parts[^1] += new string(']', optionalDepth);
            foreach (var o in Options) parts.Add(o.Required ? o.Synopsis : $"[{o.Synopsis}]");
            return string.Join(' ', parts);
        }
    }

    public string Usage => "usage: meta-appliance " + Synopsis;

    public CliOption? FindOption(string name) => Array.Find(Options, o => o.Name == name);
}
