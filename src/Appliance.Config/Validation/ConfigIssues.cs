namespace Appliance.Config;

/// <summary>Problems found by semantic checks, each at a JSON path; the loader turns paths into positions.</summary>
public sealed class ConfigIssues
{
    private readonly List<(string Path, string Message)> _items = [];
    private readonly Dictionary<int, UnknownReference> _unknownReferences = [];

    public IReadOnlyList<(string Path, string Message)> Items => _items;

    public void Add(string path, string message) => _items.Add((path, message));

    /// <summary>A reference to <paramref name="name"/>, which none of the lists at <paramref name="definedIn"/> defines.</summary>
    public void AddUnknownReference(string path, string message, string name, params string[] definedIn)
    {
        _unknownReferences[_items.Count] = new UnknownReference(name, definedIn);
        Add(path, message);
    }

    /// <summary>What item number <paramref name="item"/> refers to, if it is an unknown reference.</summary>
    public UnknownReference? UnknownReferenceOf(int item) => _unknownReferences.GetValueOrDefault(item);
}
