using System.Runtime.InteropServices;
using Appliance.Datapath.Engine;
using Appliance.Datapath.Xdp;
using Appliance.Datapath.Xsk;
using Appliance.Interop;

namespace Appliance.Host.Commands;

/// <summary>`meta-appliance forward --in IF --out IF [--queue N] [--zero-copy auto|on|off] [--ready-line TEXT]
/// [--busy-poll] [--cpu N] [--frame-size 2048|4096] [--xdp-mode auto|native|generic] [--no-jit]`: a hidden benchmark and test verb that
/// forwards frames between two interfaces in both directions through AF_XDP until SIGINT/SIGTERM, then prints
/// its counters. It runs no eBPF program, so <c>--no-jit</c> (accepted so scripts can pass `run`'s engine flag to both
/// verbs) changes nothing. Exit 0 after a clean stop, 1 when setup fails (the error says what and where), 2 on bad usage.</summary>
public static class ForwardCommand
{
    private sealed record Arguments(string In, string Out, uint Queue, ZeroCopyMode ZeroCopy, string ReadyLine,
        bool BusyPoll, uint FrameSize, XdpModePreference XdpMode, int? Cpu);

    public static int Run(string[] args)
    {
        Arguments a;
        try
        {
            a = Parse(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"meta-appliance forward: {e.Message}");
            Console.Error.WriteLine("usage: meta-appliance forward --in IF --out IF [--queue N] [--zero-copy auto|on|off] " +
                                    "[--ready-line TEXT] [--busy-poll] [--cpu N] [--frame-size 2048|4096] [--xdp-mode auto|native|generic] [--no-jit]");
            return 2;
        }

        using var stop = new ManualResetEventSlim(false);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Set(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Set(); });

        ForwardingEngine engine;
        try
        {
            var specs = new[] { new XskPortSpec(a.In, a.Queue, a.ZeroCopy), new XskPortSpec(a.Out, a.Queue, a.ZeroCopy) };
            var options = new XskOptions { FrameSize = a.FrameSize };
            var ports = XskPortSet.Open(specs, options, a.XdpMode, new NetlinkXdpAttacher(), m => Console.Error.WriteLine($"forward: {m}"));
            engine = new ForwardingEngine(ports, StaticForwarding.CrossConnect(), new EngineOptions
            {
                BusyPoll = a.BusyPoll,
                Cpu = a.Cpu,
                Log = m => Console.Error.WriteLine($"forward: {m}"),
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
            foreach (var p in engine.Ports)
            {
                string kernel;
                try { kernel = p.Statistics().ToString(); }
                catch (PlatformException e) { kernel = e.Message; }
                Console.Out.WriteLine($"RESULT {p.InterfaceName} {p.Counters} | kernel {kernel}" +
                                      (p.IsDown ? $" | down: {p.DownReason}" : ""));
            }
            Console.Out.WriteLine($"RESULT {engine.AccountFrames()}");
            if (engine.WorkerFailure is { } failure)
            {
                Console.Error.WriteLine($"meta-appliance forward: the forwarding worker failed: {failure}");
                return 1;
            }
        }
        return 0;
    }

    private static Arguments Parse(string[] args)
    {
        string? input = null, output = null, ready = null;
        uint queue = 0, frameSize = 4096;
        var zc = ZeroCopyMode.Auto;
        var xdp = XdpModePreference.Auto;
        bool busy = false;
        int? cpu = null;
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--in": input = Value(); break;
                case "--out": output = Value(); break;
                case "--queue": queue = uint.TryParse(Value(), out var q) ? q : throw new ArgumentException("--queue needs a number"); break;
                case "--zero-copy":
                    zc = Value() switch
                    {
                        "auto" => ZeroCopyMode.Auto, "on" => ZeroCopyMode.On, "off" => ZeroCopyMode.Off,
                        var v => throw new ArgumentException($"--zero-copy auto|on|off, not '{v}'"),
                    };
                    break;
                case "--xdp-mode":
                    xdp = Value() switch
                    {
                        "auto" => XdpModePreference.Auto, "native" => XdpModePreference.Native, "generic" => XdpModePreference.Generic,
                        var v => throw new ArgumentException($"--xdp-mode auto|native|generic, not '{v}'"),
                    };
                    break;
                case "--frame-size":
                    frameSize = Value() switch
                    {
                        "2048" => 2048, "4096" => 4096, var v => throw new ArgumentException($"--frame-size 2048|4096, not '{v}'"),
                    };
                    break;
                case "--ready-line": ready = Value(); break;
                case "--busy-poll": busy = true; break;
                case "--no-jit": break; // no programs run here: nothing to switch
                case "--cpu": cpu = int.TryParse(Value(), out var c) && c >= 0 ? c : throw new ArgumentException("--cpu needs a CPU number"); break;
                default: throw new ArgumentException($"unknown option '{args[i]}'");
            }
        }
        if (input is null || output is null) throw new ArgumentException("--in and --out are required");
        if (input == output) throw new ArgumentException("--in and --out must be different interfaces");
        return new Arguments(input, output, queue, zc, ready ?? $"READY meta-appliance forward {input} <-> {output}", busy, frameSize, xdp, cpu);
    }
}
