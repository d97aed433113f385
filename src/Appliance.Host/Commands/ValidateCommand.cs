using System.Text.Json;
using Appliance.Config;

namespace Appliance.Host.Commands;

/// <summary>
/// `meta-appliance validate FILE [--json] [--objects DIR | --no-objects] [--max-errors N]`: loads and checks a
/// config without touching the network. Exit 0 when valid ("FILE: ok" and a summary on stdout), 1 with its
/// errors (one per line on stderr, or a JSON array on stdout with --json), 2 for usage errors. At most
/// <see cref="DefaultMaxErrors"/> errors are printed (--max-errors N, 0 for all), then "and K more errors" on
/// stderr, so a hostile file cannot produce gigabytes of output.
/// Program object files must exist, relative to FILE or by file name in DIR; --no-objects skips that check.
/// </summary>
public static class ValidateCommand
{
    public const string Usage = "usage: meta-appliance validate FILE [--json] [--objects DIR | --no-objects] [--max-errors N]";

    public const int DefaultMaxErrors = 100;

    public static int Run(string[] args) => Run(args, Console.Out, Console.Error);

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        string? file = null, objectDirectory = null;
        bool json = false, checkObjects = true;
        int maxErrors = DefaultMaxErrors;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--json": json = true; break;
                case "--no-objects": checkObjects = false; break;
                case "--objects" when i + 1 < args.Length: objectDirectory = args[++i]; break;
                case "--objects": return UsageError(stderr, "--objects needs a folder");
                case "--max-errors" when i + 1 < args.Length && int.TryParse(args[i + 1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out maxErrors): i++; break;
                case "--max-errors": return UsageError(stderr, "--max-errors needs a whole number (0 prints every error)");
                case var option when option.StartsWith('-') && option.Length > 1: return UsageError(stderr, $"unknown option '{option}'");
                case var path when file is null: file = path; break;
                default: return UsageError(stderr, $"only one FILE may be given (got '{file}' and '{args[i]}')");
            }
        }
        if (file is null) return UsageError(stderr, "FILE is missing");
        if (objectDirectory is not null && !checkObjects) return UsageError(stderr, "--objects and --no-objects exclude each other");

        var options = new ConfigLoadOptions
        {
            ProgramObjects = checkObjects ? FileExistenceInspector.Instance : null,
            ObjectDirectory = objectDirectory,
        };
        var result = ConfigLoader.LoadFile(file, options);
        var shown = maxErrors > 0 && result.Errors.Count > maxErrors ? result.Errors.Take(maxErrors).ToList() : result.Errors;
        if (json) stdout.WriteLine(JsonSerializer.Serialize(shown, ConfigErrorJsonContext.Readable.IReadOnlyListConfigError));
        if (!result.IsValid)
        {
            if (!json)
                foreach (var error in shown) stderr.WriteLine(error.ToString());
            if (shown.Count < result.Errors.Count)
                stderr.WriteLine($"{file}: and {result.Errors.Count - shown.Count} more errors ({result.Errors.Count} in all; the first {shown.Count} are shown, --max-errors 0 shows all)");
            return 1;
        }
        if (!json)
        {
            var c = result.Config!;
            stdout.WriteLine($"{file}: ok");
            stdout.WriteLine($"board {c.Board}: {Count(c.Ports.Count, "port")}, {Count(c.Pairs.Count, "pair")}, {Count(c.Programs.Count, "program")}, " +
                             $"{Count(c.Leds.Lines.Count, "LED")} (LEDs {(c.Leds.State == LedState.On ? "on" : "off")}); " +
                             $"object files {(checkObjects ? "present" : "not checked")}");
        }
        return 0;
    }

    private static string Count(int n, string what) => $"{n} {what}{(n == 1 ? "" : "s")}";

    private static int UsageError(TextWriter stderr, string problem)
    {
        stderr.WriteLine($"meta-appliance validate: {problem}");
        stderr.WriteLine(Usage);
        return 2;
    }
}
