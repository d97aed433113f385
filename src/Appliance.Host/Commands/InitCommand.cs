using Appliance.Host.Init;

namespace Appliance.Host.Commands;

/// <summary>`meta-appliance init [--config FILE] [--board-env FILE] [--skip-setup]`: the firmware as PID 1
/// (what the image's /init execs): mounts, kernel modules, boot partition, child reaping, LEDs, and the
/// supervised appliance, which is restarted after a failure and never exits. Not as PID 1 it runs the same
/// way (mounting only what is missing, as a child subreaper) and stops cleanly on SIGTERM/SIGINT.</summary>
public static class InitCommand
{
    public const string Usage = "usage: meta-appliance init [--config FILE] [--board-env FILE] [--skip-setup]";

    public static int Run(string[] args)
    {
        string config = "/boot/config.json", boardEnv = "/etc/board.env";
        var skipSetup = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--config" when i + 1 < args.Length: config = args[++i]; break;
                case "--board-env" when i + 1 < args.Length: boardEnv = args[++i]; break;
                case "--skip-setup": skipSetup = true; break;
                case "--init": break; // implied
                default:
                    Console.Error.WriteLine($"meta-appliance init: unexpected argument '{args[i]}'\n{Usage}");
                    if (InitProcess.IsPid1) break; // PID 1 must not exit over a typo in /init
                    return 2;
            }
        }
        var body = new ApplianceHost(new ApplianceHostOptions
        {
            ConfigPath = config,
            BoardEnvPath = boardEnv,
            LogName = "init",
            BringUpPorts = true,
            StayUpWithoutConfig = true,
            ControlSocketRequired = false,
        }, Console.Error);
        return InitProcess.Run(new InitOptions { ForceInit = true, SkipSystemSetup = skipSetup }, body.Run);
    }
}
