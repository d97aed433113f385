using System.Runtime.InteropServices;
using Appliance.Datapath.Xdp;
using Appliance.Host.Init;
using Appliance.Host.Leds;

namespace Appliance.Host.Commands;

/// <summary>`meta-appliance run --config FILE [--objects DIR] [--socket PATH] [--xdp-mode auto|native|generic] [--last-good-after SECONDS] [--leds gpio|memory|none] [--no-jit]`:
/// the appliance (<see cref="ApplianceHost"/>, the same body `init` supervises on a board) in the foreground as a
/// service. Prints "meta-appliance: forwarding (N ports, M pairs)" on stdout when frames flow, logs on stderr,
/// and on SIGINT/SIGTERM stops and deletes everything it created. SIGHUP (or `meta-appliance reload`) re-reads the
/// config and applies changed chains. After the config has run healthy for --last-good-after seconds (30) it is saved
/// beside it as config.last-good.json; a later start with an invalid config falls back to that copy. The config's
/// `leds` drive the LEDs through the driver chosen by --leds (else $META_APPLIANCE_LEDS, else gpio; see
/// <see cref="LedDriverChoice"/>); `meta-appliance leds` shows and switches them.
/// Exit 0 after a clean stop, 1 when the config or the setup fails or the datapath stops, 2 on bad usage.</summary>
public static class RunCommand
{
    public const string Usage = "usage: meta-appliance run --config FILE [--objects DIR] [--socket PATH] [--xdp-mode auto|native|generic] [--last-good-after SECONDS] [--leds gpio|memory|none] [--no-jit]";

    public static int Run(string[] args)
    {
        string? file = null, objects = null, socket = null;
        var xdp = XdpModePreference.Auto;
        bool noJit = false;
        var lastGoodAfter = TimeSpan.FromSeconds(30);
        var ledDriver = LedDriverChoices.Parse(Environment.GetEnvironmentVariable(LedDriverChoices.EnvironmentVariable)) ?? LedDriverChoice.Gpio;
        for (int i = 0; i < args.Length; i++)
        {
            string? Value() => i + 1 < args.Length ? args[++i] : null;
            switch (args[i])
            {
                case "--config": file = Value(); break;
                case "--objects": objects = Value(); break;
                case "--socket": socket = Value(); break;
                case "--no-jit": noJit = true; break;
                case "--xdp-mode":
                    switch (Value())
                    {
                        case "auto": xdp = XdpModePreference.Auto; break;
                        case "native": xdp = XdpModePreference.Native; break;
                        case "generic": xdp = XdpModePreference.Generic; break;
                        default: return UsageError("--xdp-mode takes auto, native or generic");
                    }
                    break;
                case "--last-good-after":
                    if (!double.TryParse(Value(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds) || seconds < 0)
                        return UsageError("--last-good-after takes a number of seconds (default 30)");
                    lastGoodAfter = TimeSpan.FromSeconds(seconds);
                    break;
                case "--leds":
                    if (LedDriverChoices.Parse(Value()) is not { } driver) return UsageError("--leds takes gpio, memory or none");
                    ledDriver = driver;
                    break;
                default: return UsageError($"unexpected argument '{args[i]}'");
            }
        }
        if (file is null) return UsageError("--config FILE is required");

        var log = TextWriter.Synchronized(Console.Error);
        var host = new ApplianceHost(new ApplianceHostOptions
        {
            ConfigPath = file,
            ObjectDirectory = objects,
            SocketPath = socket,
            XdpMode = xdp,
            NoJit = noJit,
            LastGoodAfter = lastGoodAfter,
            LogName = "run",
        }, log);

        using var stop = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; Cancel(stop); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; Cancel(stop); });
        var state = new ApplianceState();
        var time = MonotonicTimeSource.Instance;
        using var lines = LedDriverChoices.Lines(ledDriver, time);
        using var leds = lines is null ? null : new LedController(lines, state, time, log);
        leds?.Start();
        try
        {
            host.Run(new SupervisedRun(1, stop.Token, state, leds, reportStarted: () => { }));
            return 0;
        }
        catch (Exception e)
        {
            state.RaiseFault("run", e.Message);
            log.WriteLine($"run: level=error msg=\"the appliance could not run: {e.Message}\"");
            return 1;
        }
    }

    private static void Cancel(CancellationTokenSource stop)
    {
        try
        {
            stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // a signal racing with the end of Run
        }
    }

    private static int UsageError(string message)
    {
        Console.Error.WriteLine($"meta-appliance run: {message}\n{Usage}");
        return 2;
    }
}
