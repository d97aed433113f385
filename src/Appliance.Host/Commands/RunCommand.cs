using Appliance.Datapath.Diagnostics;
using System.Runtime.InteropServices;
using Appliance.Datapath.Xdp;
using Appliance.Host.Cli;
using Appliance.Host.Init;
using Appliance.Host.Leds;
using Appliance.Host.Service;
using Appliance.Host.State;
using Appliance.Host.Time;

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
    public static readonly CliVerb Definition = new("run", "run the appliance in the foreground as a service (Ctrl-C stops it and cleans up)")
    {
        Description = "Prints \"meta-appliance: forwarding (N ports, M pairs)\" on stdout when frames flow, logs on stderr, and on " +
                      "SIGINT/SIGTERM stops and deletes everything it created. SIGHUP, an edit of the config file or meta-appliance reload " +
                      "re-reads the config and applies what changed. A config that ran healthy for --last-good-after seconds is saved beside it as " +
                      "config.last-good.json; a later start with an invalid config falls back to that copy. Under systemd " +
                      "(NOTIFY_SOCKET) it reports READY=1 once forwarding, STATUS= lines and WATCHDOG=1 pings.",
        Options =
        [
            new("--config", "the JSON config to run") { Value = "FILE", Completion = CliCompletion.File, Required = true },
            new("--objects", "look for program object files by name in DIR") { Value = "DIR", Completion = CliCompletion.Directory },
            new("--socket", "where the control socket listens") { Value = "PATH", Completion = CliCompletion.File, Default = Control.ControlServer.DefaultPath },
            new("--xdp-mode", "how the XDP programs attach") { Value = "MODE", Choices = ["auto", "native", "generic"], Default = "auto" },
            new("--last-good-after", "seconds of healthy running before the config is saved as last good") { Value = "SECONDS", Default = "30" },
            new("--no-watch", "do not follow edits of the config file and its program objects (reload or SIGHUP only)"),
            new("--confirm-edits", "an edit of the config file is rolled back after SECONDS unless `meta-appliance confirm`") { Value = "SECONDS", Default = "0 (edits apply without asking)" },
            new("--leds", "the LED driver") { Value = "DRIVER", Choices = ["gpio", "memory", "none"], Default = "$META_APPLIANCE_LEDS, else gpio" },
            new("--no-jit", "run every eBPF program in the interpreter (the default is the JIT where the config and the machine allow)"),
            new("--log-format", "how the log lines on stderr look: text, or one JSON object per line") { Value = "FORMAT", Choices = ["text", "json"], Default = "$META_APPLIANCE_LOG_FORMAT, else text" },
        ],
        Exit = "Exit 0 after a clean stop, 1 when the config or the setup fails or the datapath stops, 2 on bad usage.",
    };

    public static string Usage => Definition.Usage;

    public static int Run(string[] args)
    {
        if (!CliParser.TryParse(Definition, args, Console.Out, Console.Error, out var a, out int exit)) return exit;
        string file = a.Value("--config")!;
        if (LogFormats.Parse(a.Value("--log-format")) is { } format) Log.Format = format;
        string? objects = a.Value("--objects"), socket = a.Value("--socket");
        var xdp = a.Value("--xdp-mode") switch
        {
            "native" => XdpModePreference.Native,
            "generic" => XdpModePreference.Generic,
            _ => XdpModePreference.Auto,
        };
        var lastGoodAfter = TimeSpan.FromSeconds(30);
        if (a.Value("--last-good-after") is { } text)
        {
            if (!double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds) || seconds < 0)
                return CliParser.UsageError(Definition, Console.Error, "--last-good-after takes a number of seconds (default 30)");
            lastGoodAfter = TimeSpan.FromSeconds(seconds);
        }
        if (a.Value("--confirm-edits") is { } ce && ConfirmEdits.Parse(ce) is null && ce.Trim() != "0")
            return CliParser.UsageError(Definition, Console.Error, "--confirm-edits takes a number of seconds (0: off)");
        var confirmEdits = a.Value("--confirm-edits") is { } c ? ConfirmEdits.Parse(c) : null;
        var ledDriver = LedDriverChoices.Parse(a.Value("--leds") ?? Environment.GetEnvironmentVariable(LedDriverChoices.EnvironmentVariable)) ?? LedDriverChoice.Gpio;

        var log = Log.Default;
        var host = new ApplianceHost(new ApplianceHostOptions
        {
            ConfigPath = file,
            ObjectDirectory = objects,
            SocketPath = socket,
            XdpMode = xdp,
            NoJit = a.Has("--no-jit"),
            LastGoodAfter = lastGoodAfter,
            LogName = "run",
            ConfirmEdits = confirmEdits,
            WatchConfig = !a.Has("--no-watch"),
        }, log);

        using var stop = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; Cancel(stop); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; Cancel(stop); });
        using var notifier = ServiceNotifier.FromEnvironment();
        var state = new ApplianceState();
        var time = MonotonicTimeSource.Instance;
        using var lines = LedDriverChoices.Lines(ledDriver, time);
        using var leds = lines is null ? null : new LedController(lines, state, time, log);
        leds?.Start();
        try
        {
            host.Run(new SupervisedRun(stop.Token, state, leds, reportStarted: () => { }, notifier));
            return 0;
        }
        catch (Exception e)
        {
            state.RaiseFault("run", e.Message);
            notifier?.Status($"failed: {e.Message}");
            log.Error("run", $"the appliance could not run: {e.Message}");
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
}
