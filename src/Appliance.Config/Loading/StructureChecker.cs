using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Appliance.Config;

/// <summary>
/// Checks a located JSON tree against the source-generated metadata of the model: object shapes,
/// unknown, duplicate and missing required members, and value types. Reports every problem it finds,
/// each at its own position, and records where each path starts in a <see cref="ConfigSourceMap"/>.
/// </summary>
internal sealed class StructureChecker(SourceText source, JsonSerializerOptions options, ConfigSourceMap map, List<ConfigError> errors)
{
    public void Check(JsonSyntaxNode node, Type type, JsonPathBuilder path, bool nullAllowed)
    {
        map.Record(path.ToString(), node.Position);
        Type valueType = Nullable.GetUnderlyingType(type) ?? type;
        if (node.Kind == JsonSyntaxKind.Null)
        {
            if (!nullAllowed) Report(node.Position, path, $"expected {Describe(valueType)}, got null");
            return;
        }
        if (ScalarRules.TryGet(valueType, options, out var scalar))
        {
            string? problem = scalar.Check(node);
            if (problem is not null) Report(node.Position, path, problem);
            return;
        }
        var info = options.GetTypeInfo(valueType);
        switch (info.Kind)
        {
            case JsonTypeInfoKind.Object: CheckObject(node, info, path); break;
            case JsonTypeInfoKind.Enumerable: CheckArray(node, info, path); break;
            case JsonTypeInfoKind.Dictionary: CheckDictionary(node, info, path); break;
            default: throw new InvalidOperationException($"config model type {valueType.Name} has no structure rule");
        }
    }

    private void CheckObject(JsonSyntaxNode node, JsonTypeInfo info, JsonPathBuilder path)
    {
        if (!ExpectKind(node, JsonSyntaxKind.Object, path)) return;
        var seen = new Dictionary<string, SourcePosition>(StringComparer.Ordinal);
        foreach (var member in node.Members)
        {
            var memberPath = path.Member(member.Name);
            if (seen.TryGetValue(member.Name, out var first))
            {
                Report(member.NamePosition, memberPath,
                    $"duplicate member \"{member.Name}\" (first at {first}); JSON readers keep only one of them, so remove one");
                continue;
            }
            seen.Add(member.Name, member.NamePosition);
            var property = info.Properties.FirstOrDefault(p => p.Name == member.Name);
            if (property is null)
            {
                Report(member.NamePosition, memberPath, UnknownMember(member.Name, info));
                continue;
            }
            Check(member.Value, property.PropertyType, memberPath, property.IsSetNullable);
        }
        foreach (var property in info.Properties)
            if (property.IsRequired && !seen.ContainsKey(property.Name))
                Report(node.Position, path.Member(property.Name),
                    $"missing required member \"{property.Name}\" (expected {Describe(Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType)})");
    }

    private void CheckArray(JsonSyntaxNode node, JsonTypeInfo info, JsonPathBuilder path)
    {
        if (!ExpectKind(node, JsonSyntaxKind.Array, path)) return;
        for (int i = 0; i < node.Items.Count; i++)
            Check(node.Items[i], info.ElementType!, path.Index(i), nullAllowed: false);
    }

    private void CheckDictionary(JsonSyntaxNode node, JsonTypeInfo info, JsonPathBuilder path)
    {
        if (!ExpectKind(node, JsonSyntaxKind.Object, path)) return;
        var seen = new Dictionary<string, SourcePosition>(StringComparer.Ordinal);
        foreach (var member in node.Members)
        {
            var memberPath = path.Member(member.Name);
            if (!seen.TryAdd(member.Name, member.NamePosition))
            {
                Report(member.NamePosition, memberPath,
                    $"duplicate member \"{member.Name}\" (first at {seen[member.Name]}); JSON readers keep only one of them, so remove one");
                continue;
            }
            Check(member.Value, info.ElementType!, memberPath, nullAllowed: false);
        }
    }

    private bool ExpectKind(JsonSyntaxNode node, JsonSyntaxKind kind, JsonPathBuilder path)
    {
        if (node.Kind == kind) return true;
        Report(node.Position, path, $"expected {(kind == JsonSyntaxKind.Object ? "an object" : "an array")}, got {node.Describe()}");
        return false;
    }

    private string UnknownMember(string name, JsonTypeInfo info)
    {
        var known = info.Properties.Select(p => p.Name).ToList();
        string? suggestion = known
            .Select(k => (Name: k, Distance: EditDistance.Between(name.ToLowerInvariant(), k.ToLowerInvariant())))
            .Where(c => c.Distance <= Math.Max(1, c.Name.Length / 3))
            .OrderBy(c => c.Distance).Select(c => c.Name).FirstOrDefault();
        string hint = suggestion is null ? "" : $"did you mean \"{suggestion}\"? ";
        return $"unknown member \"{name}\" ({hint}expected one of: {string.Join(", ", known)})";
    }

    private string Describe(Type type)
    {
        if (ScalarRules.TryGet(type, options, out var scalar)) return scalar.Expected;
        return options.GetTypeInfo(type).Kind == JsonTypeInfoKind.Enumerable ? "an array" : "an object";
    }

    private void Report(SourcePosition at, JsonPathBuilder path, string message) =>
        errors.Add(new ConfigError(source.FileName, at.Line, at.Column, path.ToString(), message));
}
