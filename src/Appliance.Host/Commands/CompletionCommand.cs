using Appliance.Host.Cli;
using Appliance.Host.Control;

namespace Appliance.Host.Commands;

/// <summary>`meta-appliance completion bash`: the bash completion script (the .deb installs it as
/// /usr/share/bash-completion/completions/meta-appliance); `meta-appliance completion names pair|program|map`:
/// the running appliance's names, one per line, which the script offers (nothing and exit 1 when none runs).</summary>
public static class CompletionCommand
{
    public static readonly CliVerb Definition = new("completion", "the bash completion script, or the running appliance's names for it")
    {
        Description = "completion bash prints the script (source it, or install it as /usr/share/bash-completion/completions/meta-appliance). " +
                      "completion names KIND prints the running appliance's pair, program or map names, one per line.",
        Arguments =
        [
            new("WHAT", "the script, or names") { Choices = ["bash", "names"] },
            new("KIND", "which names") { Optional = true, Choices = ["pair", "program", "map"] },
        ],
        Options = [ControlVerb.Socket],
        Exit = "Exit 0; completion names exits 1 (printing nothing on stdout) when no appliance answers.",
    };

    public static int Run(string[] args) => Run(args, Console.Out, Console.Error);

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (!CliParser.TryParse(Definition, args, stdout, stderr, out var a, out int exit)) return exit;
        if (a.Positionals[0] == "bash")
        {
            if (a.Positionals.Count > 1) return CliParser.UsageError(Definition, stderr, "completion bash takes no KIND");
            stdout.Write(CliBashCompletion.Render(CommandLine.Verbs));
            return 0;
        }
        if (a.Positional(1) is not { } kind) return CliParser.UsageError(Definition, stderr, "completion names needs KIND");
        var response = ControlClient.Send(ControlVerb.SocketPath(a), new ControlRequest(ApplianceNames.Verb, [kind]));
        if (!response.Ok)
        {
            stderr.WriteLine($"meta-appliance completion: {response.Error}");
            return 1;
        }
        stdout.Write(response.Body);
        return 0;
    }
}
