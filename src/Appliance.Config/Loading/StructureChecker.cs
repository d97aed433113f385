using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Appliance.Config;

/// <summary>
/// Checks a located JSON tree against the source-generated metadata of the model: object shapes,
/// unknown, duplicate and missing required members, and value types. Reports every problem it finds,
/// each at its own position, and records where each path starts in a <see cref="ConfigSourceMap"/>.
/// It also returns the sound part of the tree: unknown and repeated members left out, a wrong value's
/// member removed, and an object missing a required member (given or removed) unsound as a whole; an
/// unsound array element is dropped. What it leaves out is recorded in <see cref="UnsoundParts"/>.
/// </summary>
internal sealed class StructureChecker(SourceText source, JsonSerializerOptions options, ConfigSourceMap map, List<ConfigError> errors, UnsoundParts unsound)
{
    /// <summary>Checks <paramref name="node"/>; returns its sound copy, or null when the value is unsound as a whole.</summary>
    public JsonSyntaxNode? Check(JsonSyntaxNode node, Type type, JsonPathBuilder path, bool nullAllowed)
    {
        map.Record(path.ToString(), node.Position);
        Type valueType = Nullable.GetUnderlyingType(type) ?? type;
        if (node.Kind == JsonSyntaxKind.Null)
        {
            if (nullAllowed) return node;
            Report(node.Position, path, $"expected {Describe(valueType)}, got null");
            return null;
        }
        if (ScalarRules.TryGet(valueType, options, out var scalar))
        {
            string? problem = scalar.Check(node);
            if (problem is null) return node;
            Report(node.Position, path, problem);
            return null;
        }
        var info = options.GetTypeInfo(valueType);
        return info.Kind switch
        {
            JsonTypeInfoKind.Object => CheckObject(node, info, path),
            JsonTypeInfoKind.Enumerable => CheckArray(node, info, path),
            JsonTypeInfoKind.Dictionary => CheckDictionary(node, info, path),
            _ => throw new InvalidOperationException($"config model type {valueType.Name} has no structure rule"),
        };
    }

    private JsonSyntaxNode? CheckObject(JsonSyntaxNode node, JsonTypeInfo info, JsonPathBuilder path)
    {
        if (!ExpectKind(node, JsonSyntaxKind.Object, path)) return null;
        var sound = new JsonSyntaxNode(JsonSyntaxKind.Object, node.Position);
        bool complete = true;
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
            var value = Check(member.Value, property.PropertyType, memberPath, property.IsSetNullable);
            if (value is not null)
            {
                sound.Members.Add(member with { Value = value });
                continue;
            }
            unsound.RemovedValue(memberPath.ToString());
            if (property.IsRequired) complete = false;
        }
        foreach (var property in info.Properties)
            if (property.IsRequired && !seen.ContainsKey(property.Name))
            {
                Report(node.Position, path.Member(property.Name),
                    $"missing required member \"{property.Name}\" (expected {Describe(Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType)})");
                complete = false;
            }
        return complete ? sound : null;
    }

    private JsonSyntaxNode? CheckArray(JsonSyntaxNode node, JsonTypeInfo info, JsonPathBuilder path)
    {
        if (!ExpectKind(node, JsonSyntaxKind.Array, path)) return null;
        var sound = new JsonSyntaxNode(JsonSyntaxKind.Array, node.Position);
        var kept = new List<int>();
        bool namedDefinitions = DefinesName(info.ElementType!);
        for (int i = 0; i < node.Items.Count; i++)
        {
            var item = Check(node.Items[i], info.ElementType!, path.Index(i), nullAllowed: false);
            if (item is not null)
            {
                sound.Items.Add(item);
                kept.Add(i);
            }
            else if (namedDefinitions) unsound.DroppedDefinition(path.ToString(), WrittenName(node.Items[i]));
        }
        if (kept.Count < node.Items.Count) unsound.KeptElements(path.ToString(), kept);
        return sound;
    }

    private JsonSyntaxNode? CheckDictionary(JsonSyntaxNode node, JsonTypeInfo info, JsonPathBuilder path)
    {
        if (!ExpectKind(node, JsonSyntaxKind.Object, path)) return null;
        var sound = new JsonSyntaxNode(JsonSyntaxKind.Object, node.Position);
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
            var value = Check(member.Value, info.ElementType!, memberPath, nullAllowed: false);
            if (value is not null) sound.Members.Add(member with { Value = value });
            else unsound.RemovedValue(memberPath.ToString());
        }
        return sound;
    }

    /// <summary>Whether elements of this type are definitions others refer to by their "name" (ports, pairs, programs, LEDs).</summary>
    private bool DefinesName(Type elementType) =>
        !ScalarRules.TryGet(elementType, options, out _)
        && options.GetTypeInfo(elementType) is { Kind: JsonTypeInfoKind.Object } info
        && info.Properties.Any(p => p.Name == "name");

    /// <summary>The "name" an element was given, when it is a string; null when it cannot be read.</summary>
    private static string? WrittenName(JsonSyntaxNode element) =>
        element.Kind == JsonSyntaxKind.Object
            ? element.Members.FirstOrDefault(m => m.Name == "name" && m.Value.Kind == JsonSyntaxKind.String)?.Value.Text
            : null;

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
