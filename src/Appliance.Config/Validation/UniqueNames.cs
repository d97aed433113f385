namespace Appliance.Config;

/// <summary>Reports the second and later uses of a name within one list.</summary>
internal static class UniqueNames
{
    public static void Check<T>(IReadOnlyList<T> items, Func<T, string> name, string listPath, string what, ConfigIssues issues)
    {
        var first = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < items.Count; i++)
        {
            string n = name(items[i]);
            if (!first.TryAdd(n, i))
                issues.Add($"{listPath}[{i}].name", $"duplicate {what} name \"{n}\" (already used by {listPath}[{first[n]}])");
        }
    }
}
