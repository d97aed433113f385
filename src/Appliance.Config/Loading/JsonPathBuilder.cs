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

    private static bool IsPlainName(string name) =>
        name.Length > 0 && !char.IsAsciiDigit(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '$');
}
