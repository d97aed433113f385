namespace Appliance.Config;

/// <summary>
/// What the structure check left out of the sound tree: member values it removed and array elements it
/// dropped. Semantic findings on the sound tree are mapped back to the file's own paths through it, and
/// findings that are only a consequence of something left out are recognised by it.
/// </summary>
internal sealed class UnsoundParts
{
    private readonly HashSet<string> _removedValues = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<int>> _keptIndices = new(StringComparer.Ordinal);
    private readonly HashSet<(string List, string Name)> _droppedDefinitions = [];
    private readonly HashSet<string> _listsWithNamelessDrops = new(StringComparer.Ordinal);

    /// <summary>A member value (or dictionary entry) at <paramref name="path"/> was removed; its owner kept its default.</summary>
    public void RemovedValue(string path) => _removedValues.Add(path);

    /// <summary>A named definition was dropped from the list at <paramref name="listPath"/>; its name (null when unreadable) still counts as defined.</summary>
    public void DroppedDefinition(string listPath, string? name)
    {
        if (name is null) _listsWithNamelessDrops.Add(listPath);
        else _droppedDefinitions.Add((listPath, name));
    }

    /// <summary>The array at <paramref name="arrayPath"/> lost elements; these are the original indices of the ones kept, in order.</summary>
    public void KeptElements(string arrayPath, List<int> originalIndices) => _keptIndices[arrayPath] = originalIndices;

    /// <summary>Original index of each kept element, by the original path of its array (only arrays that lost elements).</summary>
    public IReadOnlyDictionary<string, List<int>> KeptIndices => _keptIndices;

    /// <summary>Whether <paramref name="originalPath"/> is a removed value or lies inside one: anything found there is a consequence of the removal.</summary>
    public bool Covers(string originalPath)
    {
        // One look-up per level of the path (not one per removed value: a hostile file removes thousands).
        for (string? p = originalPath; p is not null; p = JsonPathBuilder.ParentOf(p))
            if (_removedValues.Contains(p)) return true;
        return false;
    }

    /// <summary>
    /// Whether a list the reference looks in was removed whole, or a definition dropped from it may carry the
    /// name: then the reference must not be called unknown.
    /// </summary>
    public bool MayDefine(UnknownReference reference) =>
        reference.DefinedIn.Any(list => _removedValues.Contains(list) || _listsWithNamelessDrops.Contains(list)
                                        || _droppedDefinitions.Contains((list, reference.Name)));
}
