namespace Appliance.Config;

/// <summary>The "(expected one of: a, b)" part of an unknown-reference message; at most
/// <see cref="MaxListed"/> names, then "and N more", so a message stays short however many names a file defines.</summary>
internal static class NameList
{
    public const int MaxListed = 20;

    public static string ExpectedOneOf(IReadOnlyCollection<string> names, string what) =>
        names.Count == 0 ? $"the config defines no {what}"
        : names.Count <= MaxListed ? $"expected one of: {string.Join(", ", names)}"
        : $"expected one of: {string.Join(", ", names.Take(MaxListed))} and {names.Count - MaxListed} more {what}";
}
