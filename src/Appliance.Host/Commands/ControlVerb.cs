using Appliance.Host.Control;

namespace Appliance.Host.Commands;

/// <summary>The client side shared by `status`, `stats`, `pairs`, `programs`, `maps` and `reload`: options
/// <c>--socket PATH</c> (default /run/meta-appliance/control.sock, or $META_APPLIANCE_SOCKET) and <c>--json</c>;
/// everything else is passed to the appliance, which answers. Exit 0 with the answer on stdout, 1 with the
/// appliance's error (or why it could not be reached) on stderr, 2 for usage errors.</summary>
public static class ControlVerb
{
    public static int Run(string verb, string[] args, bool jsonAllowed = false) => Run(verb, args, Console.Out, Console.Error, jsonAllowed);

    public static int Run(string verb, string[] args, TextWriter stdout, TextWriter stderr, bool jsonAllowed = false)
    {
        string socket = Environment.GetEnvironmentVariable("META_APPLIANCE_SOCKET") is { Length: > 0 } env ? env : ControlServer.DefaultPath;
        bool json = false;
        var rest = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--socket" when i + 1 < args.Length: socket = args[++i]; break;
                case "--socket":
                    stderr.WriteLine($"meta-appliance {verb}: --socket needs a path");
                    return 2;
                case "--json" when jsonAllowed: json = true; break;
                default: rest.Add(args[i]); break;
            }
        }
        var response = ControlClient.Send(socket, new ControlRequest(verb, [.. rest], json));
        if (!response.Ok)
        {
            stderr.WriteLine($"meta-appliance {verb}: {response.Error}");
            return 1;
        }
        stdout.Write(response.Body.EndsWith('\n') ? response.Body : response.Body + "\n");
        return 0;
    }
}
