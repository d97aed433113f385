namespace Appliance.Config;

/// <summary>The "(expected one of: a, b)" part of an unknown-reference message.</summary>
internal static class NameList
{
    public static string ExpectedOneOf(IReadOnlyCollection<string> names, string what) =>
        names.Count == 0 ? $"the config defines no {what}" : $"expected one of: {string.Join(", ", names)}";
}
