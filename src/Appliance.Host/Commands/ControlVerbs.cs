using Appliance.Host.Cli;

namespace Appliance.Host.Commands;

/// <summary>The definitions of the verbs that ask the running appliance over its control socket
/// (see <see cref="ControlVerb"/> and, on the appliance's side, <see cref="Control.ApplianceControl"/>).</summary>
public static class ControlVerbs
{
    private static CliVerb Verb(string name, string summary, bool json, string description = "", CliArgument[]? arguments = null, CliOption[]? options = null) =>
        new(name, summary)
        {
            Description = description,
            Arguments = arguments ?? [],
            Options = [.. options ?? [], .. json ? new[] { ControlVerb.Json } : [], ControlVerb.Socket],
            Exit = ControlVerb.Exit,
        };

    public static readonly CliVerb Status = Verb("status", "ports, pairs, carrier and chains of the running appliance", json: true);

    public static readonly CliVerb Stats = Verb("stats", "counters per port, pair side (drops by reason) and program", json: true,
        "The counters as tables, as JSON (--json), or in the Prometheus text format (--prometheus, the same text as " +
        "the config's metrics endpoint serves on /metrics), or as a live table of rates (--watch [SECONDS]); the counters " +
        "are the sums over the forwarding workers, --per-worker shows each worker's share.",
        [new("SECONDS", "with --watch: the interval (1 when left off)") { Optional = true }],
        [
            new("--prometheus", "answer in the Prometheus text exposition format") { Forwarded = true, Excludes = "--json" },
            new("--watch", "a live table of per-second rates (pps, bit/s, drops/s) per port and pair side, every SECONDS; " +
                "redrawn in place on a terminal, one block per interval when piped; Ctrl-C ends it") { Excludes = "--prometheus" },
            new("--per-worker", "each forwarding worker's share: its CPU, queues, frames received, forwarded, sent and dropped, " +
                "frames it handed to / took from other workers, and each of its sockets") { Forwarded = true, Excludes = "--prometheus" },
        ]);

    public static readonly CliVerb Programs = Verb("programs", "loaded programs and how their runs ended", json: false);

    public static readonly CliVerb Reload = Verb("reload", "re-read the config file and apply what changed (like SIGHUP or an edit)", json: false,
        "Validates the file (program objects loaded and verified), then applies the difference to the running config as " +
        "ordered steps (pairs, ports, programs, maps, chains); a failed step undoes the others. --dry-run prints the plan " +
        "and applies nothing. --confirm SECONDS rolls the change back after SECONDS unless `meta-appliance confirm` arrives.",
        options:
        [
            new("--dry-run", "print the plan, apply nothing") { Forwarded = true },
            new("--confirm", "roll back after SECONDS unless confirmed") { Value = "SECONDS", Forwarded = true },
        ]);

    public static readonly CliVerb Confirm = Verb("confirm", "keep the change a `reload --confirm` (or a confirmed edit) applied", json: false);

    public static readonly CliVerb Pairs = Verb("pairs", "the pairs' chains, or attach, replace or detach one chain program", json: false,
        "Without arguments: each pair side's policy, scrub, chain revision and programs. attach PAIR SIDE PROGRAM adds a " +
        "program the config loaded (at --first, --last, --before P or --after P); replace PAIR SIDE OLD NEW swaps one; " +
        "detach PAIR SIDE PROGRAM removes one. --expected-revision refuses the change (ESTALE) when the chain moved on.",
        [
            new("ACTION", "the change to make") { Optional = true, Choices = ["attach", "replace", "detach"] },
            new("PAIR", "the pair's name") { Optional = true, Completion = CliCompletion.Pair },
            new("SIDE", "which end's chain") { Optional = true, Choices = ["primary", "peer"] },
            new("PROGRAM", "the program to attach or detach, or the one replace takes out") { Optional = true, Completion = CliCompletion.Program },
            new("NEW", "the program replace puts in") { Optional = true, Completion = CliCompletion.Program },
        ],
        [
            new("--first", "attach at the head of the chain") { Forwarded = true },
            new("--last", "attach at the end of the chain (the default)") { Forwarded = true },
            new("--before", "attach before program P") { Value = "P", Completion = CliCompletion.Program, Forwarded = true },
            new("--after", "attach after program P") { Value = "P", Completion = CliCompletion.Program, Forwarded = true },
            new("--expected-revision", "refuse the change unless the chain is at revision N") { Value = "N", Forwarded = true },
        ]);

    public static readonly CliVerb Maps = Verb("maps", "eBPF maps of the running appliance: list, dump, update or delete", json: true,
        "A map is named MAP when only one object declares it, else PROGRAM/MAP. Keys and values are hex bytes in memory " +
        "order (0a000001) or integers (stored little-endian in the map's size), as in the config.",
        [
            new("ACTION", "what to do (list when left off)") { Optional = true, Choices = ["list", "dump", "update", "delete"] },
            new("MAP", "the map") { Optional = true, Completion = CliCompletion.Map },
            new("KEY", "the element's key") { Optional = true },
            new("VALUE", "the value update stores") { Optional = true },
        ]);

    public static readonly CliVerb Leds = Verb("leds", "each LED's trigger and state; off/on switches night mode", json: true,
        "Shows each LED of the running appliance (name, line, trigger, on/off now) and night mode; `leds off` turns every " +
        "LED off (night mode), `leds on` shows the triggers again.",
        [new("STATE", "night mode off (on) or on (off)") { Optional = true, Choices = ["on", "off"] }]);

    public static IEnumerable<CliVerb> All => [Status, Stats, Pairs, Programs, Maps, Reload, Confirm, Leds];
}
