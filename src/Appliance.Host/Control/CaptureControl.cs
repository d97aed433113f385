using System.Globalization;
using System.Net.Sockets;
using Appliance.Datapath.Capture;
using Appliance.Datapath.Runtime;
using Appliance.Host.Cli;
using Appliance.Host.Commands;
using Appliance.Config;

namespace Appliance.Host.Control;

/// <summary>The appliance's side of `capture`, a streaming control verb: checks the request (the same
/// <see cref="CaptureCommand.Definition"/> parses it), starts a <see cref="LiveCapture"/>, answers "capturing on ...",
/// then streams pcapng — the interfaces first, packets as the forwarding worker captures them (polled every few ms,
/// flushed in whole blocks), and at the end each point's statistics. It ends when --count packets are written, the
/// client shuts its side (Ctrl-C) or goes away, or the appliance stops; the datapath gets its own handler back first.
/// A client that reads slower than the datapath captures loses packets in the rings (counted, never waited for: this
/// thread waits on the client, the datapath only on no one); one that takes nothing of a block for
/// <see cref="ControlServer.StreamStallTimeout"/> ends the capture (the server's send timeout), so the one capture is free again.</summary>
public static class CaptureControl
{
    private const int PollMs = 5, DrainBatch = 256;

    public static void Register(ControlServer server, ApplianceRuntime runtime) =>
        server.RegisterStream(CaptureCommand.Definition.Name, (request, client, stopping) => Serve(runtime, request, client, stopping));

    private static void Serve(ApplianceRuntime runtime, ControlRequest request, Socket client, CancellationToken stopping)
    {
        LiveCapture capture;
        long limit;
        try
        {
            var a = CliParser.Parse(CaptureCommand.Definition, request.Args, forwarded: true);
            var points = Points(runtime.Topology, a.Positionals[0], a.Value("--side"));
            limit = Positive(a.Value("--count"), "--count") ?? long.MaxValue;
            int snap = (int)Math.Min(Positive(a.Value("--snaplen"), "--snaplen") ?? 262144, 262144);
            var verdicts = a.Value("--verdict") switch
            {
                "pass" => CaptureVerdicts.Pass,
                "drop" => CaptureVerdicts.Drop,
                "redirect" => CaptureVerdicts.Redirect,
                _ => CaptureVerdicts.All,
            };
            capture = LiveCapture.Start(runtime.Engine, runtime.Handlers, runtime.Topology, points, verdicts, Math.Max(snap, 14),
                groupFrames: runtime.GroupCapture);
        }
        catch (Exception e) when (e is CliUsageException or ArgumentException or InvalidOperationException or KeyNotFoundException)
        {
            ControlServer.WriteAnswer(client, ControlResponse.Failure(e.Message));
            return;
        }
        PcapngWriter writer;
        try
        {
            ControlServer.WriteAnswer(client, ControlResponse.Success($"capturing on {string.Join(", ", capture.Points.Select(p => p.Name))}"));
            // The stream starts after the answer line (the section header block begins with a newline byte).
            writer = new PcapngWriter(new NetworkStream(client, ownsSocket: false), $"meta-appliance {VersionCommand.Version}", capture.SnapLength);
        }
        catch
        {
            capture.Dispose();
            throw;
        }
        using var _ = writer;
        try
        {
            capture.WriteInterfaces(writer);
            writer.Flush();
            while (capture.Written < limit && !stopping.IsCancellationRequested && !ClientDone(client))
            {
                int n = capture.Drain(writer, (int)Math.Min(DrainBatch, limit - capture.Written));
                if (n > 0) writer.Flush();
                else Thread.Sleep(PollMs);
            }
        }
        finally
        {
            capture.Dispose();
        }
        while (capture.Written < limit && capture.Drain(writer, (int)Math.Min(DrainBatch, limit - capture.Written)) > 0) { }
        capture.WriteStatistics(writer);
        writer.Flush();
        client.Shutdown(SocketShutdown.Send);
    }

    /// <summary>A port, or a pair's sides (one, or both).</summary>
    private static CapturePoint[] Points(RuntimeTopology topology, string target, string? side)
    {
        if (topology.Ports.FirstOrDefault(p => p.Name == target) is { } port)
        {
            if (side is not null) throw new ArgumentException($"{PrintableText.Quote(target)} is a port; --side goes with a pair");
            return [CapturePoint.AtPort(port)];
        }
        var pair = topology.Pairs.FirstOrDefault(p => p.Name == target) ?? throw new KeyNotFoundException(
            $"no port or pair called {PrintableText.Quote(target)} (ports: {string.Join(", ", topology.Ports.Select(p => p.Name))}; pairs: {string.Join(", ", topology.Pairs.Select(p => p.Name))})");
        return side switch
        {
            "primary" => [CapturePoint.AtSide(pair, PairSideKind.Primary)],
            "peer" => [CapturePoint.AtSide(pair, PairSideKind.Peer)],
            _ => [CapturePoint.AtSide(pair, PairSideKind.Primary), CapturePoint.AtSide(pair, PairSideKind.Peer)],
        };
    }

    private static long? Positive(string? value, string option)
    {
        if (value is null) return null;
        if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long n) || n <= 0)
            throw new ArgumentException($"{option} takes a positive whole number, not {PrintableText.Quote(value)}");
        return n;
    }

    /// <summary>The client shut its sending side (Ctrl-C) or closed: readable with nothing to read.</summary>
    private static bool ClientDone(Socket client) => client.Poll(0, SelectMode.SelectRead) && client.Available == 0;
}
