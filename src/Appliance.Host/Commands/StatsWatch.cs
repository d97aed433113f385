using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Appliance.Host.Cli;
using Appliance.Host.Control;
using Appliance.Config;

namespace Appliance.Host.Commands;

/// <summary>`meta-appliance stats --watch [SECONDS]`: asks `stats --json` every SECONDS (1 by default) and shows the
/// rates since the previous answer — packets and bits per second in and out, drops per second (a port's: the engine's
/// and those of the kernel on its AF_XDP sockets) — per port (and pair
/// primary end) and per pair side, like `top`: on a terminal the table is redrawn in place, piped it prints one block
/// per interval. Ctrl-C ends it. Any other `stats` goes to <see cref="ControlVerb"/>.</summary>
public static class StatsWatch
{
    public static int Run(string[] args)
    {
        if (!args.Contains("--watch")) return ControlVerb.Run(ControlVerbs.Stats, args);
        var verb = ControlVerbs.Stats;
        if (!CliParser.TryParse(verb, args, Console.Out, Console.Error, out var a, out int exit)) return exit;
        double seconds = 1;
        if (a.Positional(0) is { } text && (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out seconds) || seconds is not (>= 0.1 and <= 3600))) // NaN is neither
            return CliParser.UsageError(verb, Console.Error, $"--watch takes an interval of 0.1 to 3600 seconds, not {PrintableText.Quote(text)}");
        string socket = ControlVerb.SocketPath(a);
        bool terminal = !Console.IsOutputRedirected;
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
        Sample? previous = null;
        while (!stop.IsCancellationRequested)
        {
            var r = ControlClient.Send(socket, new ControlRequest("stats", [], Json: true));
            if (!r.Ok)
            {
                Console.Error.WriteLine($"meta-appliance stats: {r.Error}");
                return 1;
            }
            var now = new Sample(DateTime.UtcNow, Parse(r.Body));
            if (previous is not null)
            {
                var block = Table(previous, now);
                Console.Out.Write(terminal ? "\u001b[H\u001b[2J" + block : block + "\n");
                Console.Out.Flush();
            }
            else if (terminal) Console.Out.Write("\u001b[H\u001b[2Jmeta-appliance stats --watch: first rates in " + seconds.ToString(CultureInfo.InvariantCulture) + " s\n");
            previous = now;
            stop.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds(seconds));
        }
        return 0;
    }

    private sealed record Sample(DateTime Utc, WatchedStats Stats);

    /// <summary>The part of a `stats --json` answer the rates need, read with the source-generated context (a
    /// JsonDocument would pull System.Security.Cryptography, and with it libssl, into the binary: the board has none).</summary>
    public static WatchedStats Parse(string statsJson) =>
        JsonSerializer.Deserialize(statsJson, WatchJson.Default.WatchedStats)
        ?? throw new JsonException("stats --json answered null");

    /// <summary>One block: a header line with the time and the interval, then a row per port and per pair side.</summary>
    public static string Table(WatchedStats before, WatchedStats after, double seconds, DateTime utc)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{utc:HH:mm:ss} rates over {seconds:0.0} s\n");
        sb.Append(CultureInfo.InvariantCulture, $"{"PORT / PAIR SIDE",-28} {"RX PPS",10} {"RX BIT/S",12} {"TX PPS",10} {"TX BIT/S",12} {"DROPS/S",9}\n");
        var old = before.Ports.ToDictionary(p => p.Kind + "/" + p.Name, p => p);
        foreach (var p in after.Ports)
        {
            if (!p.Running)
            {
                sb.Append(NotRunning(p.Kind == "port" ? p.Name : p.Name + " (primary end)"));
                continue;
            }
            if (!old.TryGetValue(p.Kind + "/" + p.Name, out var o) || !o.Running) continue;
            sb.Append(Row(p.Kind == "port" ? p.Name : p.Name + " (primary end)", p.Rates, o.Rates, seconds, p.DropTotal - o.DropTotal));
        }
        var oldPairs = before.Pairs.ToDictionary(p => p.Name, p => p);
        foreach (var p in after.Pairs)
        {
            if (!p.Running)
            {
                sb.Append(NotRunning(p.Name));
                continue;
            }
            if (!oldPairs.TryGetValue(p.Name, out var o) || !o.Running) continue;
            sb.Append(Row($"{p.Name}/primary", p.Primary!.Rates, o.Primary!.Rates, seconds, p.Primary.TxDropped - o.Primary.TxDropped));
            sb.Append(Row($"{p.Name}/peer", p.Peer!.Rates, o.Peer!.Rates, seconds, p.Peer.TxDropped - o.Peer.TxDropped));
        }
        return sb.ToString();
    }

    private static string Table(Sample before, Sample after) =>
        Table(before.Stats, after.Stats, Math.Max((after.Utc - before.Utc).TotalSeconds, 1e-3), after.Utc);

    /// <summary>A pair or port of the running config that is not running (`"running": false`): named, no rates.</summary>
    private static string NotRunning(string name) => $"{name,-28} {RuntimeReport.NotRunningWord}\n";

    private static string Row(string name, Counts now, Counts then, double seconds, long drops)
    {
        double Rate(long a, long b, double scale = 1) => Math.Max(0, a - b) * scale / seconds;
        return string.Create(CultureInfo.InvariantCulture,
            $"{name,-28} {Rate(now.RxPackets, then.RxPackets),10:0} {Human(Rate(now.RxBytes, then.RxBytes, 8)),12} " +
            $"{Rate(now.TxPackets, then.TxPackets),10:0} {Human(Rate(now.TxBytes, then.TxBytes, 8)),12} {Math.Max(0, drops) / seconds,9:0}\n");
    }

    public readonly record struct Counts(long RxPackets, long RxBytes, long TxPackets, long TxBytes);

    public sealed record WatchedStats(WatchedPort[] Ports, WatchedPair[] Pairs);

    /// <param name="Xsk">The kernel's counters of the port's AF_XDP sockets (absent from an older appliance's answer).</param>
    /// <param name="Running">False for a port (or a pair's primary end) of the running config that is not running: it has no counters.</param>
    public sealed record WatchedPort(string Name, string Kind, long RxPackets, long RxBytes, long TxPackets, long TxBytes, Dictionary<string, long>? Drops,
        WatchedXsk? Xsk = null, bool Running = true)
    {
        public Counts Rates => new(RxPackets, RxBytes, TxPackets, TxBytes);
        /// <summary>Frames the engine dropped and frames the kernel dropped on the port's sockets before the engine saw them.</summary>
        public long DropTotal => (Drops?.Values.Sum() ?? 0) + (Xsk is { } k ? k.RxDropped + k.RxRingFull : 0);
    }

    public sealed record WatchedXsk(long RxDropped, long RxRingFull);

    /// <param name="Running">False for a pair of the running config that is not running: it has no sides.</param>
    public sealed record WatchedPair(string Name, WatchedSide? Primary, WatchedSide? Peer, bool Running = true);

    public sealed record WatchedSide(long RxPackets, long RxBytes, long TxPackets, long TxBytes, long TxDropped)
    {
        public Counts Rates => new(RxPackets, RxBytes, TxPackets, TxBytes);
    }

    /// <summary>Bits per second with k/M/G.</summary>
    private static string Human(double bits) => bits switch
    {
        >= 1e9 => (bits / 1e9).ToString("0.00", CultureInfo.InvariantCulture) + "G",
        >= 1e6 => (bits / 1e6).ToString("0.00", CultureInfo.InvariantCulture) + "M",
        >= 1e3 => (bits / 1e3).ToString("0.00", CultureInfo.InvariantCulture) + "k",
        _ => bits.ToString("0", CultureInfo.InvariantCulture),
    };
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(StatsWatch.WatchedStats))]
internal sealed partial class WatchJson : JsonSerializerContext;
