using Appliance.Datapath.Pairs;
using Appliance.Datapath.Runtime;
using System.Globalization;
using Appliance.Datapath.Programs;
using Appliance.Host.Cli;
using Appliance.Host.Commands;
using Appliance.Config;

namespace Appliance.Host.Control;

/// <summary>Chain changes as bpf_mprog makes them, by name, for the control socket:
/// <code>
/// attach  PAIR primary|peer PROGRAM [--before P | --after P | --first | --last] [--expected-revision N]
/// replace PAIR primary|peer OLD PROGRAM [--expected-revision N]
/// detach  PAIR primary|peer PROGRAM [--expected-revision N]
/// </code>
/// The program must be one the config loaded. The new chain is published with one reference write; the worker
/// picks it up at the next frame (never in the middle of one). Refusals carry bpf_mprog's errno name.</summary>
public sealed class ChainEditor(ApplianceRuntime runtime)
{
    public const string Usage =
        "attach PAIR primary|peer PROGRAM [--before P|--after P|--first|--last] [--expected-revision N] | " +
        "replace PAIR primary|peer OLD NEW [--expected-revision N] | detach PAIR primary|peer PROGRAM [--expected-revision N]";

    /// <summary>Applies one change; returns a line saying what the chain is now. Throws <see cref="ArgumentException"/>
    /// for bad usage and <see cref="ChainException"/> for a refused change.</summary>
    public string Apply(IReadOnlyList<string> args) => runtime.BetweenReloads(() => Edit(args));

    private string Edit(IReadOnlyList<string> args)
    {
        var a = ControlArguments.Parse(ControlVerbs.Pairs, args);
        var p = a.Positionals;
        if (p.Count < 4) throw new ArgumentException("usage: " + Usage);
        var pair = runtime.FindPair(p[1]);
        var side = p[2] == "primary" ? pair.Primary : pair.Peer; // the parser checked SIDE's choices
        long? expected = a.Value("--expected-revision") is { } text
            ? long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var r) ? r : throw new ArgumentException("--expected-revision needs a number")
            : null;
        switch (p[0])
        {
            case "attach" when p.Count == 4:
                side.Chain.Attach(Program(p[3]), Position(a), expected);
                break;
            case "replace" when p.Count == 5:
                side.Chain.Replace(p[3], Program(p[4]), expected);
                break;
            case "detach" when p.Count == 4:
                side.Chain.Detach(p[3], expected);
                break;
            default:
                throw new ArgumentException("usage: " + Usage);
        }
        var programs = side.Chain.Programs;
        return $"{pair.Name} {p[2]}: revision {side.Chain.Revision}, chain " +
               (programs.Length == 0 ? $"empty (policy {side.Policy.ToString().ToLowerInvariant()})" : string.Join(" -> ", programs.Select(x => x.Name)));
    }

    /// <summary>Where attach puts the program: at most one of --first, --last, --before P, --after P (--last when none).</summary>
    private static ChainPosition Position(CliArgs a)
    {
        string[] given = [.. new[] { "--first", "--last", "--before", "--after" }.Where(a.Has)];
        if (given.Length > 1) throw new ArgumentException($"{string.Join(" and ", given)} exclude each other: give one position");
        return given.FirstOrDefault() switch
        {
            "--first" => ChainPosition.Prepend,
            "--before" => ChainPosition.Before(a.Value("--before")!),
            "--after" => ChainPosition.After(a.Value("--after")!),
            _ => ChainPosition.Append,
        };
    }

    private RuntimeProgram Program(string name) =>
        runtime.Programs.TryGet(name, out var p) ? p
            : throw new ArgumentException($"no program called {PrintableText.Quote(name)} is loaded; the config's programs are: {string.Join(", ", runtime.Programs.Programs.Select(x => x.Name))}");
}
