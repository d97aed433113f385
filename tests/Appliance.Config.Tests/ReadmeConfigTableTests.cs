using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Appliance.Config.Tests;

/// <summary>The README's config reference tables say what the loader does: each range in a "type" cell is the range
/// validation accepts (its ends pass, one past either end is an error at that member), each listed value is accepted,
/// and each plain default (a number, a word, true/false, a path, [] or {}) is what a left-out member becomes.</summary>
public sealed partial class ReadmeConfigTableTests
{
    /// <summary>A config with every object a table describes and nothing optional set.</summary>
    private const string Minimal = """
        {
          "board": "qemu-virt",
          "metrics": { "listen": "127.0.0.1:9101" },
          "memory": {},
          "ports": [{ "name": "eth0" }],
          "pairs": [{ "name": "tenant-a", "mode": "l2", "uplink": "eth0", "tenant": { "netns": "ns-a", "interface": "eth0" },
                      "primary": {}, "peer": {} }],
          "programs": [{ "name": "count", "object": "counter.bpf.o", "section": "tc" }],
          "leds": { "lines": [{ "name": "status", "chip": "9030000.pl061", "line": 3, "trigger": "status" }] },
          "button": { "chip": "9030000.pl061", "line": 6 }
        }
        """;

    /// <summary>Which member of <see cref="Minimal"/> each table describes, by the heading or caption above it.</summary>
    private static readonly Dictionary<string, string> TablePaths = new(StringComparer.Ordinal)
    {
        ["### Top level"] = "$",
        ["### `metrics`"] = "$.metrics",
        ["### `ports[]`"] = "$.ports[0]",
        ["### `pairs[]`"] = "$.pairs[0]",
        ["`tenant`:"] = "$.pairs[0].tenant",
        ["A side (`primary` / `peer`):"] = "$.pairs[0].peer",
        ["### `programs[]`"] = "$.programs[0]",
        ["### `button`"] = "$.button",
        ["### `memory`"] = "$.memory",
        ["### `leds`"] = "$.leds",
        ["An LED:"] = "$.leds.lines[0]",
    };

    public sealed record Row(string Path, string Member, string Type, string Default)
    {
        public override string ToString() => $"{Path}.{Member}";
    }

    /// <summary>Every row of a config reference table whose object is known, with its member's JSON path.</summary>
    public static List<Row> Rows()
    {
        string readme = File.ReadAllText(Path.Combine(RepoPaths.Root, "README.md")).ReplaceLineEndings("\n");
        int start = readme.IndexOf("\n## Config reference", StringComparison.Ordinal);
        int end = readme.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        var rows = new List<Row>();
        string? path = null;
        foreach (string line in readme[start..(end < 0 ? readme.Length : end)].Split('\n'))
        {
            if (TablePaths.TryGetValue(line.Trim(), out var p)) { path = p; continue; }
            // Another heading, or another table's caption ("A chain entry:"), ends the known table.
            if (line.StartsWith('#') || (line.Length is > 0 and < 40 && line.EndsWith(':'))) { path = null; continue; }
            if (path is null || !line.StartsWith("| `", StringComparison.Ordinal)) continue;
            var cells = line.Trim('|').Split(" | ");
            rows.Add(new Row(path, cells[0].Trim().Trim('`'), cells[1].Trim(), cells[2].Trim()));
        }
        return rows;
    }

    public static TheoryData<string> RangeRows() => [.. Rows().Where(r => Range(r.Type) is not null).Select(r => r.ToString())];

    public static TheoryData<string> DefaultRows() => [.. Rows().Where(r => DefaultLiteral(r.Default) is not null).Select(r => r.ToString())];

    public static TheoryData<string> ChoiceRows() => [.. Rows().Where(r => Choices(r.Type) is not null).Select(r => r.ToString())];

    private static Row Named(string name) => Rows().Single(r => r.ToString() == name);

    [Fact]
    public void TheTablesAreFoundAndCoverEveryKindOfClaim()
    {
        var rows = Rows();
        Assert.True(rows.Count >= 40, $"only {rows.Count} rows found");
        Assert.Equal(TablePaths.Values.Order(), rows.Select(r => r.Path).Distinct().Order());
        Assert.True(RangeRows().Count >= 10 && DefaultRows().Count >= 15 && ChoiceRows().Count >= 5,
            $"{RangeRows().Count} ranges, {DefaultRows().Count} defaults, {ChoiceRows().Count} choices");
    }

    [Theory]
    [MemberData(nameof(RangeRows))]
    public void ARangeInTheTableIsTheRangeValidationAccepts(string name)
    {
        var row = Named(name);
        var (min, max, powerOfTwo) = Range(row.Type)!.Value;
        Assert.Empty(ErrorsAt(row, min));
        Assert.NotEmpty(ErrorsAt(row, powerOfTwo ? min / 2 : min - 1));
        if (max is not { } top) return;
        Assert.Empty(ErrorsAt(row, top));
        Assert.NotEmpty(ErrorsAt(row, powerOfTwo ? top * 2 : top + 1));
        if (powerOfTwo) Assert.NotEmpty(ErrorsAt(row, min + 1));
    }

    [Theory]
    [MemberData(nameof(ChoiceRows))]
    public void EveryValueTheTableListsIsAccepted(string name)
    {
        var row = Named(name);
        var choices = Choices(row.Type)!;
        foreach (var choice in choices) Assert.Empty(ErrorsAt(row, choice));
        JsonNode wrong = choices[0].GetValueKind() == JsonValueKind.String ? JsonValue.Create("no-such-value") : JsonValue.Create(3000);
        Assert.NotEmpty(ErrorsAt(row, wrong));
    }

    [Theory]
    [MemberData(nameof(DefaultRows))]
    public void ADefaultInTheTableIsWhatALeftOutMemberBecomes(string name)
    {
        var row = Named(name);
        // Left out: the member removed from its object (a top-level list from a config of a board alone).
        var root = JsonNode.Parse(row.Path == "$" ? """{ "board": "qemu-virt" }""" : Minimal)!;
        Navigate(root, row.Path)!.AsObject().Remove(row.Member);
        var loaded = Load(root);
        Assert.True(loaded.IsValid, string.Join("\n", loaded.Errors));
        var written = JsonSerializer.SerializeToNode(loaded.Config!, ConfigJsonContext.Default.ApplianceConfig)!;
        var actual = Navigate(written, row.Path)?[row.Member];
        Assert.True(JsonNode.DeepEquals(DefaultLiteral(row.Default), actual),
            $"README says {row} defaults to {row.Default}; a left-out member becomes {actual?.ToJsonString() ?? "nothing"}");
    }

    /// <summary>The errors at the row's member (or inside it) when <see cref="Minimal"/> sets it to <paramref name="value"/>.</summary>
    private static List<string> ErrorsAt(Row row, JsonNode value)
    {
        var root = JsonNode.Parse(Minimal)!;
        Navigate(root, row.Path)!.AsObject()[row.Member] = value;
        string at = $"{row.Path}.{row.Member}";
        return [.. Load(root).Errors.Where(e => e.JsonPath == at || e.JsonPath.StartsWith(at + "[", StringComparison.Ordinal)).Select(e => e.ToString())];
    }

    private static ConfigLoadResult Load(JsonNode root) =>
        ConfigLoader.LoadBytes(Encoding.UTF8.GetBytes(root.ToJsonString()), "config.json", "/nonexistent");

    private static JsonNode? Navigate(JsonNode root, string path)
    {
        JsonNode? node = root;
        foreach (Match step in PathStep().Matches(path))
            node = step.Groups[1].Success ? node?[step.Groups[1].Value] : node?[int.Parse(step.Groups[2].Value)];
        return node;
    }

    /// <summary>"68..65535", "1..64 \| null", "power of two, 128..16384", "integer ≥ 0".</summary>
    private static (int Min, int? Max, bool PowerOfTwo)? Range(string type)
    {
        if (type.StartsWith("integer ≥ ", StringComparison.Ordinal)) return (int.Parse(type.Split(' ')[2].Trim(',')), null, false);
        var m = RangeText().Match(type);
        return m.Success ? (int.Parse(m.Groups[2].Value), int.Parse(m.Groups[3].Value), m.Groups[1].Success) : null;
    }

    /// <summary>The values a type cell lists, `"kernel"` \| `"drop"` or `2048` \| `4096`, when it lists only values.</summary>
    private static JsonNode[]? Choices(string type)
    {
        var parts = type.Split(@" \| ").Select(p => p.Trim()).ToArray();
        if (parts.Length < 2 || !parts.All(p => ChoiceText().IsMatch(p))) return null;
        return [.. parts.Select(p => JsonNode.Parse(p.Trim('`'))!)];
    }

    /// <summary>The JSON value a default cell starts with, or null when it is not a plain literal ("—", "null = …",
    /// "512 on a board, else 2048", "board defaults").</summary>
    private static JsonNode? DefaultLiteral(string cell)
    {
        var m = DefaultText().Match(cell);
        if (!m.Success) return null;
        string literal = m.Groups[1].Value;
        return literal.StartsWith('/') ? JsonValue.Create(literal) : JsonNode.Parse(literal);
    }

    [GeneratedRegex(@"\.([A-Za-z$]+)|\[(\d+)\]")]
    private static partial Regex PathStep();

    [GeneratedRegex(@"^(power of two, )?(-?\d+)\.\.(\d+)(?: |$)")]
    private static partial Regex RangeText();

    [GeneratedRegex("^`?(\"[a-z0-9-]+\"|-?\\d+)`?$")]
    private static partial Regex ChoiceText();

    /// <summary>A number, a quoted word, true/false, [] or {} (backticked or bare), or a backticked absolute path,
    /// followed by nothing or by a parenthesised reason.</summary>
    [GeneratedRegex("^`?(-?\\d+|\"[a-z0-9-]+\"|true|false|\\[\\]|\\{\\}|/[^` ]+)`?(?: \\(.*\\))?$")]
    private static partial Regex DefaultText();
}
