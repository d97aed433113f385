using Appliance.Config;

namespace Appliance.Host.Cli;

/// <summary>The one argument parser of every verb, driven by its <see cref="CliVerb"/>: `--name VALUE` or
/// `--name=VALUE`, flags, required options, `--` ends options, `-h`/`--help` anywhere before it prints the verb's help.</summary>
public static class CliParser
{
    /// <summary>Parses <paramref name="args"/>; false when the verb should not run, with <paramref name="exit"/> 0 after
    /// printing help on stdout or 2 after printing the problem and the usage on stderr.</summary>
    public static bool TryParse(CliVerb verb, IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, out CliArgs parsed, out int exit)
    {
        parsed = new CliArgs();
        exit = 0;
        for (int i = 0; i < args.Count && args[i] != "--"; i++)
        {
            if (args[i] is "--help" or "-h")
            {
                stdout.Write(CliHelp.Verb(verb));
                return false;
            }
        }
        try
        {
            parsed = Parse(verb, args);
            return true;
        }
        catch (CliUsageException e)
        {
            exit = UsageError(verb, stderr, e.Message);
            return false;
        }
    }

    /// <summary>Prints "meta-appliance VERB: PROBLEM" and the usage on stderr; returns 2.</summary>
    public static int UsageError(CliVerb verb, TextWriter stderr, string problem)
    {
        stderr.WriteLine($"meta-appliance {verb.Name}: {problem}");
        stderr.WriteLine(verb.Usage);
        return 2;
    }

    /// <param name="forwarded">The arguments are what a client forwarded to the appliance (its positionals and
    /// <see cref="CliOption.Forwarded"/> options): a required option the client keeps (capture's --out) is not asked for.</param>
    public static CliArgs Parse(CliVerb verb, IReadOnlyList<string> args, bool forwarded = false)
    {
        var result = new CliArgs();
        bool optionsEnded = false;
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (!optionsEnded && arg == "--") { optionsEnded = true; continue; }
            if (optionsEnded || !arg.StartsWith('-') || arg.Length == 1 || IsNumber(arg))
            {
                AddPositional(verb, result, arg);
                continue;
            }
            string name = arg;
            string? inline = null;
            int eq = arg.IndexOf('=');
            if (eq > 0) { name = arg[..eq]; inline = arg[(eq + 1)..]; }
            var option = verb.FindOption(name) ?? throw new CliUsageException($"unknown option {PrintableText.Quote(name)}");
            string? value = null;
            if (option.IsFlag)
            {
                if (inline is not null) throw new CliUsageException($"{name} takes no value");
            }
            else
            {
                value = inline ?? (i + 1 < args.Count ? args[++i] : throw new CliUsageException($"{name} needs {option.Value}"));
                if (option.Choices.Length > 0 && Array.IndexOf(option.Choices, value) < 0)
                    throw new CliUsageException($"{name} takes {Choices(option.Choices)}, not {PrintableText.Quote(value)}");
            }
            if (option.Excludes is { } other && result.Has(other)) throw new CliUsageException($"{other} and {name} exclude each other");
            result.Set(name, value);
            if (option.Forwarded)
            {
                result.Forward.Add(name);
                if (value is not null) result.Forward.Add(value);
            }
        }
        int required = verb.Arguments.Count(a => !a.Optional);
        if (result.Positionals.Count < required) throw new CliUsageException($"{verb.Arguments[result.Positionals.Count].Name} is missing");
        if (Array.Find(verb.Options, o => o.Required && (o.Forwarded || !forwarded) && !result.Has(o.Name)) is { } missing)
            throw new CliUsageException($"{missing.Synopsis} is required");
        return result;
    }

    private static void AddPositional(CliVerb verb, CliArgs result, string arg)
    {
        int index = result.Positionals.Count;
        if (index >= verb.Arguments.Length)
        {
            throw new CliUsageException(verb.Arguments.Length == 0 ? $"unexpected argument {PrintableText.Quote(arg)}"
                : verb.Arguments.Length == 1 ? $"only one {verb.Arguments[0].Name} may be given (got {PrintableText.Quote(result.Positionals[0])} and {PrintableText.Quote(arg)})"
                : $"unexpected argument {PrintableText.Quote(arg)} (at most {verb.Arguments.Length} arguments)");
        }
        var definition = verb.Arguments[index];
        if (definition.Choices.Length > 0 && Array.IndexOf(definition.Choices, arg) < 0)
            throw new CliUsageException($"{definition.Name} is {Choices(definition.Choices)}, not {PrintableText.Quote(arg)}");
        result.Positionals.Add(arg);
        result.Forward.Add(arg);
    }

    private static bool IsNumber(string arg) => arg.Length > 1 && arg[0] == '-' && char.IsAsciiDigit(arg[1]);

    private static string Choices(string[] choices) =>
        choices.Length == 1 ? choices[0] : string.Join(", ", choices[..^1]) + " or " + choices[^1];
}
