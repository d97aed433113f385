using System.Text;

namespace Appliance.Host.Cli;

/// <summary>`meta-appliance --help` and `meta-appliance VERB --help`, from the verb definitions.</summary>
public static class CliHelp
{
    public static string Overview(IEnumerable<CliVerb> verbs)
    {
        var b = new StringBuilder("usage: meta-appliance COMMAND [ARGS]   (meta-appliance COMMAND --help for more)\n\n");
        var shown = verbs.Where(v => !v.Hidden).ToList();
        int width = shown.Max(v => v.Name.Length) + 2;
        foreach (var v in shown) b.Append("  ").Append(v.Name.PadRight(width)).Append(v.Summary).Append('\n');
        b.Append("\n  --version, --help, --man (the manual page in roff)\n");
        return b.ToString();
    }

    public static string Verb(CliVerb verb)
    {
        var b = new StringBuilder();
        b.Append(verb.Usage).Append("\n\n").Append(verb.Summary).Append('\n');
        if (verb.Description.Length > 0) b.Append('\n').Append(Wrap(verb.Description, 0)).Append('\n');
        if (verb.Arguments.Length > 0)
        {
            b.Append("\narguments:\n");
            foreach (var a in verb.Arguments) Entry(b, a.Synopsis, a.Help);
        }
        if (verb.Options.Length > 0)
        {
            b.Append("\noptions:\n");
            foreach (var o in verb.Options) Entry(b, o.Synopsis, o.Help + (o.Default is { } d ? $" (default {d})" : ""));
        }
        Entry(b, "-h, --help", "show this help");
        b.Append('\n').Append(Wrap(verb.Exit, 0)).Append('\n');
        return b.ToString();
    }

    private static void Entry(StringBuilder b, string name, string help)
    {
        b.Append("  ").Append(name).Append('\n').Append(Wrap(help, 6)).Append('\n');
    }

    /// <summary>Wraps at 100 columns with <paramref name="indent"/> spaces before each line.</summary>
    private static string Wrap(string text, int indent)
    {
        var lines = new List<string>();
        var line = new StringBuilder();
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.Length > 0 && indent + line.Length + 1 + word.Length > 100) { lines.Add(line.ToString()); line.Clear(); }
            if (line.Length > 0) line.Append(' ');
            line.Append(word);
        }
        if (line.Length > 0) lines.Add(line.ToString());
        var pad = new string(' ', indent);
        return string.Join('\n', lines.Select(l => pad + l));
    }
}
