using Appliance.Host.Commands;

namespace Appliance.Host;

/// <summary>The `meta-appliance` verbs. Each verb lives in its own file under Commands/.</summary>
public static class CommandLine
{
    public static int Run(string[] args)
    {
        if (args.Length == 0) return Usage(Console.Error, 2);
        var rest = args[1..];
        return args[0] switch
        {
            "--version" or "version" => VersionCommand.Run(),
            "--help" or "-h" or "help" => Usage(Console.Out, 0),
            "validate" => ValidateCommand.Run(rest),
            "run" => RunCommand.Run(rest),
            "init" => InitCommand.Run(rest),
            "status" => StatusCommand.Run(rest),
            "stats" => StatsCommand.Run(rest),
            "pairs" => PairsCommand.Run(rest),
            "programs" => ProgramsCommand.Run(rest),
            "maps" => MapsCommand.Run(rest),
            "reload" => ReloadCommand.Run(rest),
            "leds" => LedsCommand.Run(rest),
            "replay" => ReplayCommand.Run(rest),
            "forward" => ForwardCommand.Run(rest), // hidden: benchmark/test forwarder (bench/forwarding.sh)
            _ => Unknown(args[0]),
        };
    }

    private static int Unknown(string verb)
    {
        Console.Error.WriteLine($"meta-appliance: unknown command '{verb}'");
        return Usage(Console.Error, 2);
    }

    private static int Usage(TextWriter w, int code)
    {
        w.WriteLine("""
            usage: meta-appliance COMMAND [ARGS]

              --version                 print the version and exit
              validate FILE [--json]    check a config file without touching the network (exit 0/1)
              run --config FILE         run the appliance in the foreground (Ctrl-C stops it and cleans up)
              init [--config FILE]      the firmware as PID 1: mounts, modules, LEDs, supervised appliance (never exits)
              status|stats [--json]     state and counters of the running appliance (--socket PATH)
              pairs [attach|replace|detach PAIR primary|peer PROGRAM ...]   chains, or change one
              programs                  loaded programs and their verdict counters
              maps [list|dump|update|delete ...]   eBPF maps of the running appliance
              reload                    re-read the config and swap changed chains
              leds [on|off] [--json]    each LED's trigger and state, night mode; off/on switches night mode
              replay IN.pcap --config FILE [--port P | --pair P --side S] [--out F] [--json]
                                        run a capture through the config's programs offline (no root, no network)
            """);
        return code;
    }
}
