namespace Appliance.Host.Init;

/// <summary>The board's module list file (e.g. /etc/modules.load written by the image builder from the
/// board profile): one module name per line, in load order; blank lines and '#' comments ignored.</summary>
public static class ModuleList
{
    public static IReadOnlyList<string> Parse(string text) =>
        [.. text.Split('\n')
            .Select(l => (l.IndexOf('#') is var hash and >= 0 ? l[..hash] : l).Trim())
            .Where(l => l.Length > 0)];
}
