namespace Appliance.Config;

/// <summary>Problems found by semantic checks, each at a JSON path; the loader turns paths into positions.</summary>
public sealed class ConfigIssues
{
    private readonly List<(string Path, string Message)> _items = [];

    public IReadOnlyList<(string Path, string Message)> Items => _items;

    public void Add(string path, string message) => _items.Add((path, message));
}
