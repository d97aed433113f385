namespace Appliance.Config;

/// <summary>Problems found by semantic checks, each at a JSON path; the loader turns paths into positions.</summary>
public sealed class ConfigIssues
{
    private readonly List<(string Path, string Message)> _items = [];
    private readonly Dictionary<int, string> _unknownNames = [];

    public IReadOnlyList<(string Path, string Message)> Items => _items;

    public void Add(string path, string message) => _items.Add((path, message));

    /// <summary>A reference to <paramref name="name"/>, which the config does not define.</summary>
    public void AddUnknownReference(string path, string name, string message)
    {
        _unknownNames[_items.Count] = name;
        Add(path, message);
    }

    /// <summary>The name an item says is unknown, if the item is an unknown reference.</summary>
    public string? UnknownNameOf(int item) => _unknownNames.GetValueOrDefault(item);
}
