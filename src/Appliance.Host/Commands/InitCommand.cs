using Appliance.Datapath.Diagnostics;
using Appliance.Host.Cli;
using Appliance.Host.Init;

namespace Appliance.Host.Commands;

/// <summary>`meta-appliance init [--config FILE] [--board-env FILE] [--skip-setup]`: the firmware as PID 1
/// (what the image's /init execs): mounts, kernel modules, boot partition, child reaping, LEDs, and the
/// supervised appliance, which is restarted after a failure and never exits. Not as PID 1 it runs the same
/// way (mounting only what is missing, as a child subreaper) and stops cleanly on SIGTERM/SIGINT.</summary>
public static class InitCommand
{
    public static readonly CliVerb Definition = new("init", "the firmware as PID 1: mounts, modules, LEDs, supervised appliance (never exits)")
    {
        Description = "What the image's /init runs. Not as PID 1 it runs the same way (mounting only what is missing, as a " +
                      "child subreaper) and stops cleanly on SIGTERM/SIGINT.",
        Options =
        [
            new("--config", "the config on the boot partition") { Value = "FILE", Completion = CliCompletion.File, Default = "/boot/config.json" },
            new("--board-env", "the board profile's environment file") { Value = "FILE", Completion = CliCompletion.File, Default = "/etc/board.env" },
            new("--skip-setup", "no mounts and no module loading"),
            new("--confirm-edits", "an edit of the config file is rolled back after SECONDS unless `meta-appliance confirm` (0: applied without asking)") { Value = "SECONDS", Default = "120" },
            new("--init", "accepted for compatibility (implied)"),
            new("--log-format", "how the log lines on stderr look: text, or one JSON object per line") { Value = "FORMAT", Choices = ["text", "json"], Default = "$META_APPLIANCE_LOG_FORMAT, else text" },
        ],
        Exit = "As PID 1 never exits (a usage error is logged and the defaults are used); otherwise exit 0 after a clean stop, 2 on bad usage.",
    };

    public static string Usage => Definition.Usage;

    public static int Run(string[] args)
    {
        if (!CliParser.TryParse(Definition, args, Console.Out, Console.Error, out var a, out int exit))
        {
            if (!InitProcess.IsPid1) return exit;
            a = new CliArgs(); // PID 1 must not exit over a typo in /init
        }
        if (LogFormats.Parse(a.Value("--log-format")) is { } format) Log.Format = format;
        string config = a.Value("--config") ?? "/boot/config.json", boardEnv = a.Value("--board-env") ?? "/etc/board.env";
        bool skipSetup = a.Has("--skip-setup");
        var confirmEdits = ConfirmEdits.Parse(a.Value("--confirm-edits") ?? "120");
        var body = new ApplianceHost(new ApplianceHostOptions
        {
            ConfigPath = config,
            BoardEnvPath = boardEnv,
            LogName = "init",
            BringUpPorts = true,
            StayUpWithoutConfig = true,
            ControlSocketRequired = false,
            ConfirmEdits = confirmEdits,
        }, Log.Default);
        return InitProcess.Run(new InitOptions { ForceInit = true, SkipSystemSetup = skipSetup }, body.Run);
    }
}
