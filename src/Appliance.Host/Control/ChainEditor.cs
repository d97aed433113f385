using Appliance.Datapath.Pairs;
using Appliance.Datapath.Runtime;
using Appliance.Datapath.Programs;

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
    public string Apply(IReadOnlyList<string> args)
    {
        if (args.Count < 4) throw new ArgumentException("usage: " + Usage);
        string op = args[0];
        var pair = runtime.FindPair(args[1]);
        var side = args[2] switch
        {
            "primary" => pair.Primary,
            "peer" => pair.Peer,
            var s => throw new ArgumentException($"side must be primary or peer, not '{s}'"),
        };
        long? expected = null;
        ChainPosition position = ChainPosition.Append;
        var positional = new List<string>();
        for (int i = 3; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--expected-revision":
                    expected = long.TryParse(Value(), out var r) ? r : throw new ArgumentException("--expected-revision needs a number");
                    break;
                case "--before": position = ChainPosition.Before(Value()); break;
                case "--after": position = ChainPosition.After(Value()); break;
                case "--first": position = ChainPosition.Prepend; break;
                case "--last": position = ChainPosition.Append; break;
                default: positional.Add(args[i]); break;
            }
        }
        switch (op)
        {
            case "attach" when positional.Count == 1:
                side.Chain.Attach(Program(positional[0]), position, expected);
                break;
            case "replace" when positional.Count == 2:
                side.Chain.Replace(positional[0], Program(positional[1]), expected);
                break;
            case "detach" when positional.Count == 1:
                side.Chain.Detach(positional[0], expected);
                break;
            default:
                throw new ArgumentException("usage: " + Usage);
        }
        var programs = side.Chain.Programs;
        return $"{pair.Name} {args[2]}: revision {side.Chain.Revision}, chain " +
               (programs.Length == 0 ? $"empty (policy {side.Policy.ToString().ToLowerInvariant()})" : string.Join(" -> ", programs.Select(p => p.Name)));
    }

    private RuntimeProgram Program(string name) =>
        runtime.Programs.TryGet(name, out var p) ? p
            : throw new ArgumentException($"no program called '{name}' is loaded; the config's programs are: {string.Join(", ", runtime.Programs.Programs.Select(x => x.Name))}");
}
