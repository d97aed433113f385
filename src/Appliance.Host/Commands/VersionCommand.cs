using System.Reflection;
using System.Runtime.InteropServices;

namespace Appliance.Host.Commands;

/// <summary>`meta-appliance --version`: version, architecture and runtime.</summary>
public static class VersionCommand
{
    public static string Version =>
        typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? "0.0.0";

    public static int Run()
    {
        Console.WriteLine($"meta-appliance {Version} ({RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant()}, {RuntimeInformation.FrameworkDescription})");
        return 0;
    }
}
