using System.Globalization;
using System.Text.Json;

namespace Appliance.Config;

/// <summary>The scalar types of the config model and how each must be written.</summary>
internal static class ScalarRules
{
    private static readonly Dictionary<Type, ScalarRule> Fixed = new()
    {
        [typeof(string)] = new("a string", n => n.Kind == JsonSyntaxKind.String ? null : $"expected a string, got {n.Describe()}"),
        [typeof(bool)] = new("true or false", n => n.Kind is JsonSyntaxKind.True or JsonSyntaxKind.False ? null : $"expected true or false, got {n.Describe()}"),
        [typeof(int)] = new("an integer", CheckInt32),
        [typeof(MacAddress)] = new(MacAddress.Expected, n => FromString(n, MacAddress.Expected, s => MacAddress.TryParse(s, out _))),
        [typeof(InterfaceAddress)] = new(InterfaceAddress.Expected, CheckInterfaceAddress),
        [typeof(LedTrigger)] = new(LedTrigger.Expected, n => FromString(n, LedTrigger.Expected, s => LedTrigger.TryParse(s, out _))),
        [typeof(MapDatum)] = new(MapDatum.Expected, CheckMapDatum),
    };

    /// <summary>netkit/iproute2 words users may bring along, and what they are called here.</summary>
    private static readonly Dictionary<string, string> EnumHints = new(StringComparer.Ordinal)
    {
        ["blackhole"] = "netkit's \"blackhole\" is \"drop\" here",
        ["forward"] = "netkit's \"forward\" is \"pass\" here",
    };

    public static bool TryGet(Type type, JsonSerializerOptions options, out ScalarRule rule)
    {
        if (Fixed.TryGetValue(type, out rule!)) return true;
        if (!type.IsEnum) return false;
        var names = EnumNames.Of(type, options.GetTypeInfo(type));
        string expected = OneOf(names);
        rule = new ScalarRule(expected, n => CheckEnum(n, names, expected));
        return true;
    }

    private static string? CheckEnum(JsonSyntaxNode node, string[] names, string expected)
    {
        if (node.Kind != JsonSyntaxKind.String) return $"expected {expected}, got {node.Describe()}";
        if (names.Contains(node.Text!, StringComparer.Ordinal)) return null;
        string? hint = EnumHints.TryGetValue(node.Text!, out var h) ? h
            : names.FirstOrDefault(n => string.Equals(n, node.Text, StringComparison.OrdinalIgnoreCase)) is { } same ? $"names are lower-case: \"{same}\""
            : null;
        return $"expected {expected}, got {node.Describe()}" + (hint is null ? "" : $" ({hint})");
    }

    private static string OneOf(string[] names) =>
        names.Length == 2 ? $"\"{names[0]}\" or \"{names[1]}\"" : "one of " + string.Join(", ", names.Select(n => $"\"{n}\""));

    private static string? CheckInt32(JsonSyntaxNode node)
    {
        if (node.Kind != JsonSyntaxKind.Number) return $"expected an integer, got {node.Describe()}";
        if (int.TryParse(node.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)) return null;
        bool integral = node.Text!.TrimStart('-').All(char.IsAsciiDigit);
        return integral
            ? $"expected an integer from {int.MinValue} to {int.MaxValue}, got {node.Describe()}"
            : $"expected an integer (no fraction or exponent), got {node.Describe()}";
    }

    private static string? CheckInterfaceAddress(JsonSyntaxNode node)
    {
        string? problem = FromString(node, InterfaceAddress.Expected, s => InterfaceAddress.TryParse(s, out _));
        if (problem is not null && node.Kind == JsonSyntaxKind.String && !node.Text!.Contains('/'))
            problem += $" (add the prefix length, e.g. \"{node.Text}/{(node.Text.Contains(':') ? 64 : 24)}\")";
        return problem;
    }

    private static string? CheckMapDatum(JsonSyntaxNode node)
    {
        if (node.Kind == JsonSyntaxKind.String)
            return MapDatum.TryParseHex(node.Text!, out _, out var problem) ? null : $"expected {MapDatum.Expected}, got {node.Describe()}: {problem}";
        if (node.Kind == JsonSyntaxKind.Number)
            return MapDatum.TryParseInteger(node.Text!, out _) ? null
                : $"expected an integer from {MapDatum.MinInteger} to {MapDatum.MaxInteger} (no fraction or exponent), got {node.Describe()}";
        return $"expected {MapDatum.Expected}, got {node.Describe()}";
    }

    private static string? FromString(JsonSyntaxNode node, string expected, Func<string, bool> parses) =>
        node.Kind == JsonSyntaxKind.String && parses(node.Text!) ? null : $"expected {expected}, got {node.Describe()}";
}
