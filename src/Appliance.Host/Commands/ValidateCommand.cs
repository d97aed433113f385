using System.Text.Json;
using Appliance.Config;
using Appliance.Datapath.Runtime;
using Appliance.Host.Cli;
using Appliance.Datapath.Programs;

namespace Appliance.Host.Commands;

/// <summary>
/// `meta-appliance validate FILE [--json] [--objects DIR | --no-objects]` (see <see cref="Definition"/>): loads and checks a config without
/// touching the network. Exit 0 when valid ("FILE: ok" and a summary on stdout), 1 with its errors
/// (one per line on stderr, or a JSON array on stdout with --json), 2 for usage errors. At most
/// <see cref="DefaultMaxErrors"/> errors are printed (--max-errors N, 0 for all), then "and K more errors" on
/// stderr, so a hostile file cannot produce gigabytes of output.
/// Program object files must exist, relative to FILE or by file name in DIR; --no-objects skips that check.
/// </summary>
public static class ValidateCommand
{
    public static readonly CliVerb Definition = new("validate", "check a config file without touching the network")
    {
        Description = "Loads and checks FILE: structure, references, limits, and that each program's object file exists " +
                      "(relative to FILE, or by file name in --objects DIR). Prints \"FILE: ok\" and a summary, or every error.",
        Arguments =
        [
            new("FILE", "the JSON config to check (with --diff: the running one)") { Completion = CliCompletion.File },
            new("NEW", "with --diff: the new config, compared with FILE") { Optional = true, Completion = CliCompletion.File },
        ],
        Options =
        [
            new("--json", "print the errors as a JSON array on stdout (an empty array when valid)"),
            new("--objects", "look for program object files by name in DIR") { Value = "DIR", Completion = CliCompletion.Directory, Excludes = "--no-objects" },
            new("--no-objects", "do not check the object files") { Excludes = "--objects" },
            new("--diff", "validate NEW and print the plan that `reload` would apply to go from FILE to NEW (like `reload --dry-run`, offline)"),
            new("--max-errors", "print at most N errors, then how many more there are (0: all)") { Value = "N", Default = "100" },
        ],
        Exit = "Exit 0 when valid, 1 with its errors (one per line on stderr, or JSON on stdout; at most --max-errors), 2 on bad usage.",
    };

    public const int DefaultMaxErrors = 100;

    public static string Usage => Definition.Usage;

    public static int Run(string[] args) => Run(args, Console.Out, Console.Error);

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (!CliParser.TryParse(Definition, args, stdout, stderr, out var a, out int exit)) return exit;
        string file = a.Positionals[0];
        if (a.Has("--diff")) return Diff(file, a.Positional(1), a.Value("--objects"), stdout, stderr);
        if (a.Positional(1) is { } extra) return CliParser.UsageError(Definition, stderr, $"only one FILE may be given without --diff (got {PrintableText.Quote(file)} and {PrintableText.Quote(extra)})");
        string? objectDirectory = a.Value("--objects");
        bool json = a.Has("--json"), checkObjects = !a.Has("--no-objects");
        int maxErrors = DefaultMaxErrors;
        if (a.Value("--max-errors") is { } max && !int.TryParse(max, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out maxErrors))
            return CliParser.UsageError(Definition, stderr, $"--max-errors takes a whole number (0 prints every error), not {PrintableText.Quote(max)}");

        var options = new ConfigLoadOptions
        {
            ProgramObjects = checkObjects ? ProgramObjectInspector.Instance : null,
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
                             $"object files {(checkObjects ? "loaded and verified" : "not checked")}");
        }
        return 0;
    }

    /// <summary>`validate --diff RUNNING NEW`: both must be valid; prints the reconcile plan from RUNNING to NEW.</summary>
    private static int Diff(string running, string? next, string? objectDirectory, TextWriter stdout, TextWriter stderr)
    {
        if (next is null) return CliParser.UsageError(Definition, stderr, "--diff needs RUNNING and NEW");
        var options = new ConfigLoadOptions { ProgramObjects = ProgramObjectInspector.Instance, ObjectDirectory = objectDirectory };
        var before = ConfigLoader.LoadFile(running, options);
        var after = ConfigLoader.LoadFile(next, options);
        foreach (var error in before.Errors.Concat(after.Errors)) stderr.WriteLine(error.ToString());
        if (!before.IsValid || !after.IsValid) return 1;
        try
        {
            var plan = ApplianceRuntime.PlanOffline(before.Config!, DirectoryOf(running), after.Config!, DirectoryOf(next), objectDirectory);
            stdout.WriteLine($"{running} -> {next}:");
            stdout.WriteLine(plan.Describe());
            return 0;
        }
        catch (RuntimeSetupException e)
        {
            stderr.WriteLine($"{next}: cannot be applied to {running}: {e.Message}");
            return 1;
        }
    }

    private static string DirectoryOf(string file) => Path.GetDirectoryName(Path.GetFullPath(file)) ?? ".";

    private static string Count(int n, string what) => $"{n} {what}{(n == 1 ? "" : "s")}";
}
