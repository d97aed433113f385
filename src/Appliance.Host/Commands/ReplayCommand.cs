using System.Text;
using System.Text.Json;
using Appliance.Config;
using Appliance.Datapath.Capture;
using Appliance.Datapath.Replay;
using Appliance.Datapath.Runtime;
using Appliance.Host.Cli;
using Appliance.Datapath.Programs;

namespace Appliance.Host.Commands;

/// <summary>`meta-appliance replay IN.pcap[ng] --config FILE [--objects DIR] [--pair P --side primary|peer | --port PORT]
/// [--out OUT.pcapng] [--json]`: runs every frame of a capture through the config's classification, chains and
/// programs exactly as the datapath would (<see cref="FrameReplayer"/>), with no network and no root, and prints per
/// frame the decision, the programs run with their return values and any trace_printk output; <c>--out</c> writes
/// the frames as they leave (one interface per target). Where the frames enter: <c>--port</c> (classified by
/// destination MAC), <c>--pair --side peer</c> (the tenant sent them) or <c>--side primary</c> (straight into the
/// pair's primary side); without either, a capture file whose interface names one capture point (as `capture`
/// writes them: PORT or PAIR/SIDE) says it. From a pcapng file only frames arriving at the capture point are
/// replayed (direction inbound or unknown); when an interface is named like the capture point, only its frames.
/// Exit 0, 1 when the config or the capture cannot be used, 2 on bad usage.</summary>
public static class ReplayCommand
{
    public static readonly CliVerb Definition = new("replay", "run a capture through the config's programs offline (no root, no network)")
    {
        Description = "Builds the config's appliance without touching the network (programs loaded and verified, maps filled " +
                      "with the config's initial contents, chains, classifiers) and decides each frame of IN exactly as the datapath " +
                      "would: per frame the decision (verdict, side, program, reason, target), the programs run and what they " +
                      "returned, and trace_printk lines. State carries over from frame to frame. A file written by `capture` names " +
                      "its capture point; otherwise say where the frames enter with --port or --pair and --side.",
        Arguments = [new("IN", "the pcap or pcapng file (- for stdin)") { Completion = CliCompletion.File }],
        Options =
        [
            new("--config", "the config to run the frames through") { Value = "FILE", Completion = CliCompletion.File, Required = true },
            new("--objects", "look for program object files by name in DIR") { Value = "DIR", Completion = CliCompletion.Directory },
            new("--port", "the frames arrive on this board port (classified by destination MAC)") { Value = "PORT", Excludes = "--pair" },
            new("--pair", "the frames enter this pair (with --side)") { Value = "P", Excludes = "--port" },
            new("--side", "peer: the tenant sent them; primary: straight into the pair's primary side") { Choices = ["primary", "peer"], Value = "SIDE" },
            new("--out", "write the frames as they leave to a pcapng file (- for stdout)") { Value = "OUT", Completion = CliCompletion.File },
            new("--json", "print the decisions as JSON"),
        ],
        Exit = "Exit 0, 1 when the config or the capture cannot be used, 2 on bad usage.",
    };

    public static int Run(string[] args) => Run(args, Console.Out, Console.Error);

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (!CliParser.TryParse(Definition, args, stdout, stderr, out var a, out int exit)) return exit;
        string input = a.Positionals[0];
        string config = a.Value("--config")!;
        string? objects = a.Value("--objects"), pair = a.Value("--pair"), side = a.Value("--side"),
            port = a.Value("--port"), output = a.Value("--out");
        bool json = a.Has("--json");
        if (port is not null && side is not null) return UsageError(stderr, "--port excludes --side");
        if ((pair is null) != (side is null)) return UsageError(stderr, "--pair and --side go together");

        var loaded = ConfigLoader.LoadFile(config, new ConfigLoadOptions { ProgramObjects = ProgramObjectInspector.Instance, ObjectDirectory = objects });
        if (!loaded.IsValid)
        {
            foreach (var e in loaded.Errors) stderr.WriteLine(e.ToString());
            return 1;
        }
        CaptureFile capture;
        try
        {
            capture = input == "-" ? CaptureFileReader.Read(Console.OpenStandardInput()) : CaptureFileReader.Read(input);
        }
        catch (Exception e) when (e is CaptureFormatException or IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"meta-appliance replay: {input}: {e.Message}");
            return 1;
        }
        OfflineTopology offline;
        try
        {
            offline = OfflineTopology.Build(loaded.Config!, loaded.BaseDirectory ?? ".", objects);
        }
        catch (RuntimeSetupException e)
        {
            stderr.WriteLine($"meta-appliance replay: {e.Message}");
            return 1;
        }
        var topology = offline.Topology;
        ReplayInput at;
        if (port is not null)
        {
            int index = Array.FindIndex(topology.Ports, p => p.Name == port);
            if (index < 0) return Fail(stderr, $"no port called {PrintableText.Quote(port)} in {config} (ports: {string.Join(", ", topology.Ports.Select(p => p.Name))})");
            at = ReplayInput.AtPort(index);
        }
        else if (pair is not null)
        {
            var p = topology.Pairs.FirstOrDefault(x => x.Name == pair);
            if (p is null) return Fail(stderr, $"no pair called {PrintableText.Quote(pair)} in {config} (pairs: {string.Join(", ", topology.Pairs.Select(x => x.Name))})");
            at = ReplayInput.AtSide(p, side == "primary" ? PairSideKind.Primary : PairSideKind.Peer);
        }
        else if (InferInput(capture, topology) is { } inferred) at = inferred;
        else return UsageError(stderr, "say where the frames enter: --port PORT or --pair P --side primary|peer (the capture's interfaces name no port or pair side of the config)");

        string pointName = at.Name(topology);
        int named = -1;
        for (int i = 0; i < capture.Interfaces.Count; i++)
            if (capture.Interfaces[i].Name == pointName) named = i;
        var frames = capture.Records.Where(r => (named < 0 || r.Interface == named) && r.Direction != PacketDirection.Outbound).ToList();
        foreach (var r in frames)
            if (capture.Interfaces[r.Interface].LinkType != CaptureFile.LinkTypeEthernet)
                return Fail(stderr, $"{input}: interface {r.Interface} has link type {capture.Interfaces[r.Interface].LinkType}; only Ethernet (1) frames can be replayed");

        using var replayer = new FrameReplayer(offline);
        var results = frames.Select(r => replayer.Replay(at, r.Data)).ToList();
        if (output is not null) WriteOutput(output, results, frames, topology);
        if (json) stdout.WriteLine(Json(pointName, results));
        else stdout.Write(Text(pointName, input, results));
        return 0;
    }

    /// <summary>A capture whose one interface (or the interface of all its inbound frames) is named like a port or a pair side.</summary>
    private static ReplayInput? InferInput(CaptureFile capture, RuntimeTopology topology)
    {
        var names = capture.Records.Where(r => r.Direction != PacketDirection.Outbound).Select(r => capture.Interfaces[r.Interface].Name).Distinct().ToList();
        if (names.Count != 1 || names[0] is not { } name) return null;
        int port = Array.FindIndex(topology.Ports, p => p.Name == name);
        if (port >= 0) return ReplayInput.AtPort(port);
        foreach (var p in topology.Pairs)
        {
            if (name == DecisionText.SideName(p, PairSideKind.Primary)) return ReplayInput.AtSide(p, PairSideKind.Primary);
            if (name == DecisionText.SideName(p, PairSideKind.Peer)) return ReplayInput.AtSide(p, PairSideKind.Peer);
        }
        return null;
    }

    private static void WriteOutput(string path, List<ReplayedFrame> results, List<CaptureRecord> frames, RuntimeTopology topology)
    {
        using var file = path == "-" ? Console.OpenStandardOutput() : File.Create(path);
        using var writer = new PcapngWriter(file, "meta-appliance replay", 65535);
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < results.Count; i++)
        {
            foreach (var r in results[i].Copies.Prepend(results[i]))
            {
                if (r.Output is null) continue;
                if (!ids.TryGetValue(r.Target!, out int id)) ids[r.Target!] = id = writer.AddInterface(r.Target!);
                writer.WritePacket(id, frames[i].TimestampNanoseconds, r.Output, r.Output.Length, PacketDirection.Outbound, r.Decision);
            }
        }
    }

    private static string Text(string point, string input, List<ReplayedFrame> results)
    {
        var sb = new StringBuilder();
        foreach (var r in results)
        {
            sb.Append('#').Append(r.Index + 1).Append(' ').AppendLine(r.Decision);
            Details(sb, r, "    ");
            foreach (var c in r.Copies)
            {
                sb.Append("    flooded ").AppendLine(c.Decision);
                Details(sb, c, "        ");
            }
        }
        var counts = results.GroupBy(r => r.Verdict).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Count()} {g.Key}");
        int copies = results.Sum(r => r.Copies.Count);
        sb.AppendLine($"{results.Count} frame(s) from {input} at {point}: {(results.Count == 0 ? "none" : string.Join(", ", counts))}" +
                      (copies == 0 ? "" : $"; {copies} flooded cop{(copies == 1 ? "y" : "ies")} into L2 pairs"));
        return sb.ToString();
    }

    private static void Details(StringBuilder sb, ReplayedFrame r, string indent)
    {
        if (r.Programs.Count > 0)
            sb.Append(indent).Append("ran ").AppendLine(string.Join(", ", r.Programs.Select(p => $"{p.Program} -> {VerdictName(p.Verdict)}{(p.Fault is null ? "" : $" (fault {p.Fault})")}")));
        foreach (var t in r.Trace) sb.Append(indent).Append("trace ").AppendLine(t.TrimEnd('\n'));
    }

    /// <summary>A program's return value as netkit reads it.</summary>
    private static string VerdictName(long v) => v switch
    {
        -1 => "next",
        0 => "pass",
        2 => "drop",
        7 => "redirect",
        _ => v.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private static string Json(string point, List<ReplayedFrame> results)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("input", point);
            w.WriteStartArray("frames");
            foreach (var r in results) Frame(w, r);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    private static void Frame(Utf8JsonWriter w, ReplayedFrame r)
    {
        w.WriteStartObject();
        w.WriteNumber("index", r.Index);
        w.WriteString("decision", r.Decision);
        w.WriteString("verdict", r.Verdict);
        if (r.Reason is null) w.WriteNull("reason"); else w.WriteString("reason", r.Reason);
        if (r.Target is null) w.WriteNull("target"); else w.WriteString("target", r.Target);
        w.WriteStartArray("programs");
        foreach (var p in r.Programs)
        {
            w.WriteStartObject();
            w.WriteString("name", p.Program);
            w.WriteNumber("returned", p.Verdict);
            w.WriteString("verdict", VerdictName(p.Verdict));
            if (p.Fault is null) w.WriteNull("fault"); else w.WriteString("fault", p.Fault);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("trace");
        foreach (var t in r.Trace) w.WriteStringValue(t.TrimEnd('\n'));
        w.WriteEndArray();
        if (r.Output is null) w.WriteNull("output"); else w.WriteString("output", Convert.ToHexStringLower(r.Output));
        w.WriteStartArray("copies");
        foreach (var c in r.Copies) Frame(w, c);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static int Fail(TextWriter stderr, string message)
    {
        stderr.WriteLine($"meta-appliance replay: {message}");
        return 1;
    }

    private static int UsageError(TextWriter stderr, string message) => CliParser.UsageError(Definition, stderr, message);
}
