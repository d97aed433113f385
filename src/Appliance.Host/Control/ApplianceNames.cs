using Appliance.Datapath.Runtime;

namespace Appliance.Host.Control;

/// <summary>The control socket's <c>names pair|program|map</c>: the running appliance's names of that kind, one per
/// line, sorted (what `meta-appliance completion names` and so the bash completion offer).</summary>
public static class ApplianceNames
{
    public const string Verb = "names";

    public static string List(ApplianceRuntime runtime, IReadOnlyList<string> args)
    {
        IEnumerable<string> names = args.Count == 1 ? args[0] switch
        {
            "pair" => runtime.Topology.Pairs.Select(p => p.Name),
            "program" => runtime.Programs.Programs.Select(p => p.Name),
            "map" => runtime.Programs.Objects.SelectMany(o => o.Maps.Select(m => m.Name)),
            _ => throw new ArgumentException($"names takes pair, program or map, not '{args[0]}'"),
        } : throw new ArgumentException("usage: names pair|program|map");
        return string.Concat(names.Distinct().Order(StringComparer.Ordinal).Select(n => n + "\n"));
    }
}
