namespace Appliance.Host.Tests;

/// <summary>CommandLine.Run as the binary's Main runs it, with Console output captured (tests using it join
/// <see cref="ConsoleCollection"/> so no other test writes into the capture).</summary>
public static class CommandLineCapture
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try { return (CommandLine.Run(args), stdout.ToString(), stderr.ToString()); }
        finally { Console.SetOut(oldOut); Console.SetError(oldErr); }
    }
}
