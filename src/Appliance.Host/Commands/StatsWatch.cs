using System.Globalization;
using System.Text;
using System.Text.Json;
using Appliance.Host.Cli;
using Appliance.Host.Control;

namespace Appliance.Host.Commands;

/// <summary>`meta-appliance stats --watch [SECONDS]`: asks `stats --json` every SECONDS (1 by default) and shows the
/// rates since the previous answer — packets and bits per second in and out, drops per second — per port (and pair
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
        if (a.Positional(0) is { } text && (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out seconds) || seconds is < 0.1 or > 3600))
            return CliParser.UsageError(verb, Console.Error, $"--watch takes an interval of 0.1 to 3600 seconds, not '{text}'");
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
            var now = new Sample(DateTime.UtcNow, JsonDocument.Parse(r.Body).RootElement);
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

    private sealed record Sample(DateTime Utc, JsonElement Stats);

    /// <summary>One block: a header line with the time and the interval, then a row per port and per pair side.</summary>
    public static string Table(JsonElement before, JsonElement after, double seconds, DateTime utc)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{utc:HH:mm:ss} rates over {seconds:0.0} s\n");
        sb.Append(CultureInfo.InvariantCulture, $"{"PORT / PAIR SIDE",-28} {"RX PPS",10} {"RX BIT/S",12} {"TX PPS",10} {"TX BIT/S",12} {"DROPS/S",9}\n");
        var old = before.GetProperty("ports").EnumerateArray().ToDictionary(p => Key(p), p => p);
        foreach (var p in after.GetProperty("ports").EnumerateArray())
        {
            if (!old.TryGetValue(Key(p), out var o)) continue;
            sb.Append(Row(p.GetProperty("kind").GetString() == "port" ? p.GetProperty("name").GetString()! : p.GetProperty("name").GetString() + " (primary end)",
                p, o, seconds, "rxPackets", "rxBytes", "txPackets", "txBytes", Drops(p) - Drops(o)));
        }
        var oldPairs = before.GetProperty("pairs").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!, p => p);
        foreach (var p in after.GetProperty("pairs").EnumerateArray())
        {
            string name = p.GetProperty("name").GetString()!;
            if (!oldPairs.TryGetValue(name, out var o)) continue;
            foreach (var side in new[] { "primary", "peer" })
            {
                var s = p.GetProperty(side);
                var os = o.GetProperty(side);
                sb.Append(Row($"{name}/{side}", s, os, seconds, "rxPackets", "rxBytes", "txPackets", "txBytes",
                    s.GetProperty("txDropped").GetInt64() - os.GetProperty("txDropped").GetInt64()));
            }
        }
        return sb.ToString();
    }

    private static string Table(Sample before, Sample after) =>
        Table(before.Stats, after.Stats, Math.Max((after.Utc - before.Utc).TotalSeconds, 1e-3), after.Utc);

    private static string Key(JsonElement port) => port.GetProperty("kind").GetString() + "/" + port.GetProperty("name").GetString();

    private static long Drops(JsonElement port) => port.GetProperty("drops").EnumerateObject().Sum(d => d.Value.GetInt64());

    private static string Row(string name, JsonElement now, JsonElement then, double seconds, string rxP, string rxB, string txP, string txB, long drops)
    {
        double Rate(string field, double scale = 1) => Math.Max(0, now.GetProperty(field).GetInt64() - then.GetProperty(field).GetInt64()) * scale / seconds;
        return string.Create(CultureInfo.InvariantCulture,
            $"{name,-28} {Rate(rxP),10:0} {Human(Rate(rxB, 8)),12} {Rate(txP),10:0} {Human(Rate(txB, 8)),12} {Math.Max(0, drops) / seconds,9:0}\n");
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
