using Appliance.Datapath.Diagnostics;
using System.Runtime.InteropServices;
using Appliance.Datapath.Engine;
using Appliance.Datapath.Xdp;
using Appliance.Datapath.Xsk;
using Appliance.Host.Cli;
using Appliance.Interop;

namespace Appliance.Host.Commands;

/// <summary>`meta-appliance forward --in IF --out IF [--queue N] [--zero-copy auto|on|off] [--ready-line TEXT]
/// [--busy-poll] [--cpu N] [--workers N] [--frame-size 2048|4096] [--xdp-mode auto|native|generic] [--no-jit]`: a hidden benchmark and test verb that
/// forwards frames between two interfaces in both directions through AF_XDP until SIGINT/SIGTERM, then prints
/// its counters. Exit 0 after a clean stop, 1 when setup fails (the error says what and where), 2 on bad usage.</summary>
public static class ForwardCommand
{
    private sealed record Arguments(string In, string Out, uint Queue, ZeroCopyMode ZeroCopy, string ReadyLine,
        bool BusyPoll, uint FrameSize, XdpModePreference XdpMode, int? Cpu, int Workers, int YieldSpins);

    public static readonly CliVerb Definition = new("forward", "benchmark and test forwarder between two interfaces")
    {
        Hidden = true,
        Description = "Forwards frames between --in and --out in both directions through AF_XDP until SIGINT/SIGTERM, then prints its counters.",
        Options =
        [
            new("--in", "the first interface") { Value = "IF", Completion = CliCompletion.Interface, Required = true },
            new("--out", "the second interface") { Value = "IF", Completion = CliCompletion.Interface, Required = true },
            new("--queue", "the queue on both") { Value = "N", Default = "0" },
            new("--zero-copy", "AF_XDP zero-copy") { Value = "MODE", Choices = ["auto", "on", "off"], Default = "auto" },
            new("--ready-line", "printed on stdout once forwarding") { Value = "TEXT" },
            new("--busy-poll", "poll the rings instead of sleeping in poll()"),
            new("--yield-spins", "with --busy-poll: empty loops after which a worker yields its core (sched_yield); 0 never yields") { Value = "N", Default = "64" },
            new("--cpu", "pin the worker to CPU N (with --workers, worker w to CPU N + w)") { Value = "N" },
            new("--workers", "forwarding workers, one per RX queue (queues --queue .. --queue + N - 1 of both interfaces)") { Value = "N", Default = "1" },
            new("--frame-size", "UMEM frame size") { Value = "BYTES", Choices = ["2048", "4096"], Default = "4096" },
            new("--xdp-mode", "how the XDP programs attach") { Value = "MODE", Choices = ["auto", "native", "generic"], Default = "auto" },
            new("--no-jit", "accepted like run's (forward runs no eBPF program, so it changes nothing)"),
        ],
        Exit = "Exit 0 after a clean stop, 1 when setup fails (the error says what and where), 2 on bad usage.",
    };

    public static int Run(string[] args)
    {
        if (!CliParser.TryParse(Definition, args, Console.Out, Console.Error, out var parsed, out int exit)) return exit;
        Arguments a;
        try
        {
            a = Parse(parsed);
        }
        catch (CliUsageException e)
        {
            return CliParser.UsageError(Definition, Console.Error, e.Message);
        }

        using var stop = new ManualResetEventSlim(false);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Set(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Set(); });

        ForwardingEngine engine;
        try
        {
            var specs = new[] { new XskPortSpec(a.In, a.Queue, a.ZeroCopy), new XskPortSpec(a.Out, a.Queue, a.ZeroCopy) };
            var options = new XskOptions { FrameSize = a.FrameSize };
            var ports = XskPortSet.Open(specs, options, a.XdpMode, new NetlinkXdpAttacher(), m => Log.Info("xsk", m), a.Workers);
            engine = new ForwardingEngine(ports, StaticForwarding.CrossConnect(), new EngineOptions
            {
                BusyPoll = a.BusyPoll,
                BusyPollYieldSpins = a.YieldSpins,
                Cpus = a.Cpu is int first ? Enumerable.Range(first, a.Workers).ToArray() : null,
            });
        }
        catch (Exception e) when (e is PlatformException or ArgumentException)
        {
            Console.Error.WriteLine($"meta-appliance forward: {e.Message}");
            return 1;
        }

        using (engine)
        {
            engine.Start();
            Console.Out.WriteLine(a.ReadyLine);
            Console.Out.Flush();
            while (!stop.Wait(500))
            {
                if (!engine.IsRunning) break;
            }
            engine.Stop();
            foreach (var p in Enumerable.Range(0, engine.WorkerCount).SelectMany(engine.PortsOf))
            {
                string kernel;
                try { kernel = p.Statistics().ToString(); }
                catch (PlatformException e) { kernel = e.Message; }
                Console.Out.WriteLine($"RESULT {p.InterfaceName}{(engine.WorkerCount > 1 ? $" queue {p.Queue} worker {p.Worker}" : "")} {p.Counters} | kernel {kernel}" +
                                      (p.IsDown ? $" | down: {p.DownReason}" : ""));
            }
            for (int w = 0; w < engine.WorkerCount; w++) // per-frame costs: loops, sleeps and hand-offs against the frames
                Console.Out.WriteLine($"RESULT worker {w} loops={engine.LoopsOf(w)} polls={engine.PollsOf(w)} yields={engine.YieldsOf(w)} handedOff={engine.HandedOffBy(w)} " +
                                      $"busyPolls={engine.PortsOf(w).Sum(p => p.Counters.BusyPolls)}");
            Console.Out.WriteLine($"RESULT {engine.AccountFrames()}");
            if (engine.WorkerFailure is { } failure)
            {
                Console.Error.WriteLine($"meta-appliance forward: the forwarding worker failed: {failure}");
                return 1;
            }
        }
        return 0;
    }

    private static Arguments Parse(CliArgs a)
    {
        string input = a.Value("--in")!, output = a.Value("--out")!;
        if (input == output) throw new CliUsageException("--in and --out must be different interfaces");
        uint queue = a.Value("--queue") is { } q ? uint.TryParse(q, out var n) ? n : throw new CliUsageException("--queue needs a number") : 0;
        int? cpu = a.Value("--cpu") is { } c ? int.TryParse(c, out var k) && k >= 0 ? k : throw new CliUsageException("--cpu needs a CPU number") : null;
        var zc = a.Value("--zero-copy") switch { "on" => ZeroCopyMode.On, "off" => ZeroCopyMode.Off, _ => ZeroCopyMode.Auto };
        var xdp = a.Value("--xdp-mode") switch { "native" => XdpModePreference.Native, "generic" => XdpModePreference.Generic, _ => XdpModePreference.Auto };
        uint frameSize = a.Value("--frame-size") == "2048" ? 2048u : 4096u;
        int workers = a.Value("--workers") is { } w ? int.TryParse(w, out var m) && m is >= 1 and <= 64 ? m : throw new CliUsageException("--workers needs a number 1..64") : 1;
        int yieldSpins = a.Value("--yield-spins") is { } y ? int.TryParse(y, out var s) && s >= 0 ? s : throw new CliUsageException("--yield-spins needs a number (0: never yield)") : 64;
        return new Arguments(input, output, queue, zc, a.Value("--ready-line") ?? $"READY meta-appliance forward {input} <-> {output}",
            a.Has("--busy-poll"), frameSize, xdp, cpu, workers, yieldSpins);
    }
}
