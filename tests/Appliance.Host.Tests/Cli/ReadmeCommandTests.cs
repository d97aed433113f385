using System.Text.RegularExpressions;
using Appliance.Host.Cli;
using Xunit;

namespace Appliance.Host.Tests.Cli;

/// <summary>The README's command lines stay what the parser accepts: the verb table of "The `meta-appliance` command"
/// names every verb and option the parser has and no other, with the same choices, and every `meta-appliance VERB …`
/// the README shows (in a code span or a code block) parses, so a user who copies one gets no usage error.</summary>
public sealed partial class ReadmeCommandTests
{
    private static readonly string Readme = File.ReadAllText(Path.Combine(RepoPaths.Root, "README.md")).ReplaceLineEndings("\n");

    /// <summary>Options every command line takes besides a verb's own (the parser's `--help`/`-h`) and the top level's.</summary>
    private static readonly string[] Globals = ["--help", "--man", "--version"];

    private static CliVerb? VerbNamed(string name) => CommandLine.Verbs.FirstOrDefault(v => v.Name == name);

    private static string CommandSection()
    {
        int start = Readme.IndexOf("\n## The `meta-appliance` command", StringComparison.Ordinal);
        Assert.True(start >= 0, "README.md has no \"## The `meta-appliance` command\" section");
        int end = Readme.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        return Readme[start..end];
    }

    /// <summary>The verb table's rows: the verbs its first cell names, and the whole row's text.</summary>
    private static List<(List<(CliVerb Verb, string Span)> Verbs, string Row)> TableRows()
    {
        var rows = new List<(List<(CliVerb, string)>, string)>();
        foreach (string line in CommandSection().Split('\n'))
        {
            if (!line.StartsWith("| `", StringComparison.Ordinal)) continue;
            string first = line[2..line.IndexOf(" | ", StringComparison.Ordinal)];
            var verbs = CodeSpans(first).Select(s => (Verb: VerbNamed(s.Split(' ')[0]), Span: s))
                .Where(v => v.Verb is not null).Select(v => (v.Verb!, v.Span)).ToList();
            rows.Add((verbs, line));
        }
        Assert.True(rows.Count > 10, "the verb table was not found");
        return rows;
    }

    private static IEnumerable<string> CodeSpans(string markdown) =>
        CodeSpan().Matches(markdown).Select(m => m.Groups[1].Value.Replace("\\|", "|", StringComparison.Ordinal));

    [Fact]
    public void EveryVerbAndOptionOfTheParserIsInTheVerbTable()
    {
        var rows = TableRows();
        string section = CommandSection();
        var missing = new List<string>();
        foreach (var verb in CommandLine.Verbs.Where(v => !v.Hidden))
        {
            var own = rows.Where(r => r.Verbs.Any(v => v.Verb == verb)).ToList();
            if (own.Count == 0) { missing.Add(verb.Name); continue; }
            foreach (var option in verb.Options)
            {
                // --socket is the same for every verb that talks to the appliance: the paragraph under the table says it once.
                string where = option.Name == "--socket" ? section : string.Join('\n', own.Select(r => r.Row));
                if (!Regex.IsMatch(where, $@"`[^`]*(?<![\w-]){Regex.Escape(option.Name)}(?![\w-])[^`]*`"))
                    missing.Add($"{verb.Name} {option.Name}");
            }
        }
        Assert.True(missing.Count == 0, "the README's verb table does not mention: " + string.Join(", ", missing));
    }

    [Fact]
    public void EveryOptionTheVerbTableNamesIsThatVerbsWithItsChoices()
    {
        var wrong = new List<string>();
        foreach (var (verbs, row) in TableRows())
        {
            foreach (var (verb, span) in verbs) wrong.AddRange(OptionProblems(verb, span));
            // The description may name the options of any verb of its row (`--per-worker` in the status/stats row); a
            // span that starts with a verb (`stats --json`, `reload --confirm`) is that verb's.
            foreach (string span in CodeSpans(row))
            {
                if (VerbNamed(span.Split(' ')[0]) is { } named) { wrong.AddRange(OptionProblems(named, span)); continue; }
                foreach (Match m in OptionName().Matches(span))
                    if (!Globals.Contains(m.Value) && !verbs.Any(v => v.Verb.FindOption(m.Value) is not null))
                        wrong.Add($"{string.Join('/', verbs.Select(v => v.Verb.Name))}: `{span}` names {m.Value}, which none of them has");
            }
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    /// <summary>Every `meta-appliance VERB …` in the README, and every code span of a verb and its options: a synopsis (with `[`, `|` or `…`) names only the verb's
    /// options with their choices; a concrete command line parses as it stands.</summary>
    [Fact]
    public void EveryCommandLineInTheReadmeIsAccepted()
    {
        var commands = new List<(string Text, bool Whole)>();
        foreach (Match block in CodeBlock().Matches(Readme))
            foreach (string line in block.Groups[1].Value.Split('\n'))
                commands.AddRange(Invocations(line.Split(" # ")[0].Split(" | ")[0]).Select(c => (c, true)));
        foreach (string span in CodeSpans(Readme))
        {
            commands.AddRange(Invocations(span).Select(c => (c, true)));
            // A verb and some of its options, without the program's name (`stats --json`, `run --no-jit`): its options only.
            if (VerbNamed(span.Split(' ')[0]) is not null && span.Contains(" --", StringComparison.Ordinal)) commands.Add((span, false));
        }
        Assert.True(commands.Count > 40, $"only {commands.Count} command lines found");

        var wrong = new List<string>();
        foreach (var (command, whole) in commands.Distinct())
        {
            string[] words = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0 || Globals.Contains(words[0]) || words[0].EndsWith(':')) continue; // "meta-appliance capture: …" is output
            if (VerbNamed(words[0]) is not { } verb) { wrong.Add($"`meta-appliance {command}`: no verb {words[0]}"); continue; }
            if (words.Length == 1) continue; // the verb named in prose
            wrong.AddRange(OptionProblems(verb, command));
            if (!whole || command.IndexOfAny(['[', '|', '…']) >= 0) continue;
            try
            {
                CliParser.Parse(verb, words[1..]);
            }
            catch (CliUsageException e)
            {
                wrong.Add($"`meta-appliance {command}`: {e.Message}");
            }
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    /// <summary>The text after each "meta-appliance " that names something (not "meta-appliance:" or a path).</summary>
    private static IEnumerable<string> Invocations(string text) =>
        Invocation().Matches(text).Select(m => m.Groups[1].Value.Trim());

    private static IEnumerable<string> OptionProblems(CliVerb verb, string span)
    {
        foreach (Match m in OptionWithChoices().Matches(span))
        {
            string name = m.Groups[1].Value;
            if (Globals.Contains(name)) continue;
            if (verb.FindOption(name) is not { } option)
            {
                yield return $"{verb.Name}: `{span}` names {name}, which {verb.Name} does not take";
                continue;
            }
            if (m.Groups[2].Success && !option.Choices.SequenceEqual(m.Groups[2].Value.Split('|')))
                yield return $"{verb.Name}: `{span}` gives {name} the choices {m.Groups[2].Value}; the parser takes {string.Join('|', option.Choices)}";
        }
    }

    [GeneratedRegex("`([^`\n]+)`")]
    private static partial Regex CodeSpan();

    [GeneratedRegex("```[a-z]*\n(.*?)\n```", RegexOptions.Singleline)]
    private static partial Regex CodeBlock();

    [GeneratedRegex(@"(?<![\w/-])meta-appliance ([a-z-][^`)]*)")]
    private static partial Regex Invocation();

    [GeneratedRegex(@"(?<![\w-])--[a-z][a-z-]*")]
    private static partial Regex OptionName();

    /// <summary>An option, and the choices written after it (`--xdp-mode auto|native|generic`).</summary>
    [GeneratedRegex(@"(?<![\w-])(--[a-z][a-z-]*)(?:[ =]([a-z0-9]+(?:\|[a-z0-9]+)+)(?![\w]))?")]
    private static partial Regex OptionWithChoices();
}
