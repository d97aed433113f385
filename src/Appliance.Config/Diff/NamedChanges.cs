namespace Appliance.Config;

/// <summary>Items of one kind, matched by name: added, removed, and changed (present in both but different).</summary>
public sealed record NamedChanges(IReadOnlyList<string> Added, IReadOnlyList<string> Removed, IReadOnlyList<string> Changed)
{
    public bool IsEmpty => Added.Count == 0 && Removed.Count == 0 && Changed.Count == 0;

    internal static NamedChanges Compute<T>(IReadOnlyList<T> before, IReadOnlyList<T> after, Func<T, string> name, Func<T, T, bool> same)
    {
        var old = before.GroupBy(name).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var now = after.GroupBy(name).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        return new NamedChanges(
            now.Keys.Where(k => !old.ContainsKey(k)).ToList(),
            old.Keys.Where(k => !now.ContainsKey(k)).ToList(),
            now.Keys.Where(k => old.TryGetValue(k, out var o) && !same(o, now[k])).ToList());
    }
}
