using System.Reflection;
using System.Runtime.InteropServices;
using Appliance.Host.Cli;

namespace Appliance.Host.Commands;

/// <summary>`meta-appliance --version`: version, architecture and runtime.</summary>
public static class VersionCommand
{
    public static string Version =>
        typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? "0.0.0";

    public static readonly CliVerb Definition = new("version", "print the version, architecture and runtime (also --version)")
    {
        Exit = "Exit 0.",
    };

    public static int Run(string[] args)
    {
        if (!CliParser.TryParse(Definition, args, Console.Out, Console.Error, out _, out int exit)) return exit;
        Console.WriteLine($"meta-appliance {Version} ({RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant()}, {RuntimeInformation.FrameworkDescription})");
        return 0;
    }
}
