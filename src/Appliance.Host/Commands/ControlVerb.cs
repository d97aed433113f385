using Appliance.Host.Cli;
using Appliance.Host.Control;
using Appliance.Config;

namespace Appliance.Host.Commands;

/// <summary>The client side shared by `status`, `stats`, `pairs`, `programs`, `maps`, `reload` and `leds`: options
/// <c>--socket PATH</c> (default /run/meta-appliance/control.sock, or $META_APPLIANCE_SOCKET) and, where the verb
/// has it, <c>--json</c>; the positionals and forwarded options go to the appliance, which answers. Exit 0 with the
/// answer on stdout, 1 with the appliance's error (or why it could not be reached) on stderr, 2 for usage errors.</summary>
public static class ControlVerb
{
    public const string Exit = "Exit 0 with the appliance's answer on stdout, 1 with its error (or why it could not be reached) on stderr, 2 on bad usage.";

    public static readonly CliOption Socket = new("--socket", "the running appliance's control socket (else $META_APPLIANCE_SOCKET)")
    {
        Value = "PATH", Completion = CliCompletion.File, Default = ControlServer.DefaultPath,
    };

    public static readonly CliOption Json = new("--json", "answer as a JSON document");

    public static int Run(CliVerb verb, string[] args) => Run(verb, args, Console.Out, Console.Error);

    public static int Run(CliVerb verb, string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (!CliParser.TryParse(verb, args, stdout, stderr, out var a, out int exit)) return exit;
        var response = ControlClient.Send(SocketPath(a), new ControlRequest(verb.Name, [.. a.Forward], a.Has(Json.Name)));
        if (!response.Ok)
        {
            stderr.WriteLine($"meta-appliance {verb.Name}: {PrintableText.Escape(response.Error ?? "")}"); // the appliance's message may quote what a user or tenant gave
            return 1;
        }
        stdout.Write(response.Body.EndsWith('\n') ? response.Body : response.Body + "\n");
        return 0;
    }

    public static string SocketPath(CliArgs a) =>
        a.Value(Socket.Name) ?? (Environment.GetEnvironmentVariable("META_APPLIANCE_SOCKET") is { Length: > 0 } env ? env : ControlServer.DefaultPath);
}
