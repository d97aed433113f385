using Appliance.Host.Cli;
using Appliance.Host.Commands;
using Appliance.Config;

namespace Appliance.Host;

/// <summary>The `meta-appliance` verbs: one table of definitions (<see cref="CliVerb"/>, each in its command's file
/// under Commands/) that the parser, `--help`, the man page and the bash completion all read.</summary>
public static class CommandLine
{
    private static readonly CliVerb HelpVerb = new("help", "this overview, or one command's help")
    {
        Arguments = [new("COMMAND", "the command to explain") { Optional = true }],
        Exit = "Exit 0, or 2 for an unknown command.",
    };

    private static readonly (CliVerb Verb, Func<string[], int> Run)[] Table =
    [
        (ValidateCommand.Definition, ValidateCommand.Run),
        (RunCommand.Definition, RunCommand.Run),
        (InitCommand.Definition, InitCommand.Run),
        (ControlVerbs.Status, a => ControlVerb.Run(ControlVerbs.Status, a)),
        (ControlVerbs.Stats, StatsWatch.Run),
        (ControlVerbs.Pairs, a => ControlVerb.Run(ControlVerbs.Pairs, a)),
        (ControlVerbs.Programs, a => ControlVerb.Run(ControlVerbs.Programs, a)),
        (ControlVerbs.Maps, a => ControlVerb.Run(ControlVerbs.Maps, a)),
        (ControlVerbs.Reload, a => ControlVerb.Run(ControlVerbs.Reload, a)),
        (ControlVerbs.Confirm, a => ControlVerb.Run(ControlVerbs.Confirm, a)),
        (ControlVerbs.Leds, a => ControlVerb.Run(ControlVerbs.Leds, a)),
        (CaptureCommand.Definition, CaptureCommand.Run),
        (ReplayCommand.Definition, ReplayCommand.Run),
        (CompletionCommand.Definition, CompletionCommand.Run),
        (VersionCommand.Definition, VersionCommand.Run),
        (HelpVerb, Help),
        (ForwardCommand.Definition, ForwardCommand.Run), // hidden: benchmark/test forwarder (bench/forwarding.sh)
    ];

    public static IEnumerable<CliVerb> Verbs => Table.Select(t => t.Verb);

    public static int Run(string[] args)
    {
        if (args.Length == 0) return Usage(Console.Error, 2);
        var rest = args[1..];
        switch (args[0])
        {
            case "--version": return VersionCommand.Run(rest);
            case "--help" or "-h": return Usage(Console.Out, 0);
            case "--man":
                Console.Out.Write(CliManPage.Render(Verbs, VersionCommand.Version));
                return 0;
        }
        foreach (var (verb, run) in Table)
            if (verb.Name == args[0]) return run(rest);
        Console.Error.WriteLine($"meta-appliance: unknown command {PrintableText.Quote(args[0])}");
        return Usage(Console.Error, 2);
    }

    private static int Help(string[] args)
    {
        if (!CliParser.TryParse(HelpVerb, args, Console.Out, Console.Error, out var a, out int exit)) return exit;
        if (a.Positional(0) is not { } name) return Usage(Console.Out, 0);
        if (Verbs.FirstOrDefault(v => v.Name == name) is not { } verb)
            return CliParser.UsageError(HelpVerb, Console.Error, $"unknown command {PrintableText.Quote(name)}");
        Console.Out.Write(CliHelp.Verb(verb));
        return 0;
    }

    private static int Usage(TextWriter w, int code)
    {
        w.Write(CliHelp.Overview(Verbs));
        return code;
    }
}
