using System.Globalization;

namespace Appliance.Config;

/// <summary>Immutable JSON path text: "$", "$.pairs[1].peer.policy", "$.programs[0].maps['my map']".</summary>
internal readonly record struct JsonPathBuilder
{
    private readonly string? _text;

    private JsonPathBuilder(string text) => _text = text;

    public JsonPathBuilder Member(string name) =>
        new(IsPlainName(name) ? $"{this}.{name}" : $"{this}['{name.Replace("'", "\\'")}']");

    public JsonPathBuilder Index(int index) => new($"{this}[{index.ToString(CultureInfo.InvariantCulture)}]");

    public override string ToString() => _text ?? "$";

    /// <summary>The path one level up ("$.pairs[1].peer" → "$.pairs[1]" → "$.pairs" → "$"), null above "$".</summary>
    public static string? ParentOf(string path)
    {
        if (path == "$") return null;
        int cut = path.Length - 1;
        if (path[cut] == ']')
        {
            // "...[3]" or "...['name']"
            cut = path.LastIndexOf('[');
            if (cut > 1 && path[cut + 1] == '\'') cut = path.LastIndexOf("['", StringComparison.Ordinal);
            return cut > 0 ? path[..cut] : "$";
        }
        cut = path.LastIndexOf('.');
        return cut > 0 ? path[..cut] : "$";
    }

    private static bool IsPlainName(string name) =>
        name.Length > 0 && !char.IsAsciiDigit(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '$');
}
