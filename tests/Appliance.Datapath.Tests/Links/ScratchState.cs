using Appliance.TestSupport;

namespace Appliance.Datapath.Tests.Links;

/// <summary>What a test created, removed with `ip` on Dispose whatever happened (independently of the code
/// under test, so a bug there cannot leak interfaces or namespaces).</summary>
internal sealed class ScratchState : IDisposable
{
    private readonly List<string> _namespaces = [];
    private readonly List<string> _links = [];

    /// <summary>A unique namespace name, deleted on Dispose if it exists.</summary>
    public string Namespace(string purpose)
    {
        var name = NetNamespace.UniqueName(purpose);
        _namespaces.Add(name);
        return name;
    }

    /// <summary>A unique interface name, deleted (in the root namespace) on Dispose if it exists.</summary>
    public string Interface(string prefix = "mapp")
    {
        var name = NetNamespace.UniqueInterface(prefix);
        _links.Add(name);
        return name;
    }

    public void Dispose()
    {
        foreach (var l in _links) Shell.Run("ip", "link", "del", "dev", l);
        foreach (var ns in _namespaces) Shell.Run("ip", "netns", "del", ns);
    }
}
