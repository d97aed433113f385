using System.Text.Json;

namespace Appliance.Config.Tests;

/// <summary>config.schema.json agrees with the loader: on the examples, on the model's member names, enums and required members, and on malformed input.</summary>
public class SchemaTests
{
    /// <summary>Each object in the schema and the model type it describes.</summary>
    private static readonly (string Pointer, Type Model)[] Objects =
    [
        ("", typeof(ApplianceConfig)),
        ("$defs/port", typeof(PortConfig)),
        ("$defs/pair", typeof(PairConfig)),
        ("$defs/tenant", typeof(TenantConfig)),
        ("$defs/side", typeof(PairSideConfig)),
        ("$defs/chainEntry", typeof(ChainEntry)),
        ("$defs/program", typeof(ProgramConfig)),
        ("$defs/mapEntry", typeof(MapEntryConfig)),
        ("$defs/leds", typeof(LedSettings)),
        ("$defs/metrics", typeof(MetricsConfig)),
        ("$defs/memory", typeof(MemorySettings)),
        ("$defs/button", typeof(ButtonConfig)),
        ("$defs/led", typeof(LedConfig)),
    ];

    private static JsonElement SchemaObject(string pointer)
    {
        var element = ConfigSchema.Document.RootElement;
        foreach (var part in pointer.Split('/', StringSplitOptions.RemoveEmptyEntries)) element = element.GetProperty(part);
        return element;
    }

    [Theory]
    [MemberData(nameof(ExampleConfigTests.Examples), MemberType = typeof(ExampleConfigTests))]
    public void ExampleValidatesAgainstTheSchemaAndTheLoader(string name)
    {
        string path = Path.Combine(RepoPaths.Examples, name);
        Assert.Empty(ConfigSchema.Errors(File.ReadAllText(path)));
        Assert.Empty(ConfigLoader.LoadFile(path).Errors);
    }

    [Fact]
    public void TheTestBaseConfigValidatesAgainstTheSchema() => Assert.Empty(ConfigSchema.Errors(ConfigTexts.Valid));

    [Fact]
    public void EveryModelObjectHasASchemaObject()
    {
        // Walk the model from the root through the source-generated metadata; every object type must be listed above.
        var options = ConfigJsonContext.Default.Options;
        var seen = new HashSet<Type>();
        var pending = new Stack<Type>([typeof(ApplianceConfig)]);
        while (pending.TryPop(out var type))
        {
            type = Nullable.GetUnderlyingType(type) ?? type;
            if (!seen.Add(type)) continue;
            var info = options.GetTypeInfo(type);
            foreach (var p in info.Properties) pending.Push(p.PropertyType);
            if (info.ElementType is { } element) pending.Push(element);
        }
        var objectTypes = seen.Where(t => options.GetTypeInfo(t).Kind == System.Text.Json.Serialization.Metadata.JsonTypeInfoKind.Object).ToHashSet();
        Assert.Equal(objectTypes.OrderBy(t => t.Name), Objects.Select(o => o.Model).OrderBy(t => t.Name));
    }

    [Fact]
    public void SchemaPropertiesAndRequiredMembersMatchTheModel()
    {
        foreach (var (pointer, model) in Objects)
        {
            var schema = SchemaObject(pointer);
            var info = ConfigJsonContext.Default.Options.GetTypeInfo(model);
            Assert.False(schema.GetProperty("additionalProperties").GetBoolean(), $"{pointer} must refuse unknown members like the loader");
            Assert.Equal(info.Properties.Select(p => p.Name).Order(StringComparer.Ordinal),
                schema.GetProperty("properties").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
            var required = schema.TryGetProperty("required", out var r) ? r.EnumerateArray().Select(e => e.GetString()!) : [];
            Assert.Equal(info.Properties.Where(p => p.IsRequired).Select(p => p.Name).Order(StringComparer.Ordinal), required.Order(StringComparer.Ordinal));
        }
    }

    [Theory]
    [InlineData("$defs/port", "unclaimed", typeof(UnclaimedPolicy))]
    [InlineData("$defs/pair", "mode", typeof(PairMode))]
    [InlineData("$defs/side", "policy", typeof(SidePolicy))]
    [InlineData("$defs/side", "scrub", typeof(ScrubMode))]
    [InlineData("$defs/leds", "state", typeof(LedState))]
    [InlineData("$defs/tenant", "serves", typeof(TenantService))]
    public void SchemaEnumsMatchTheModel(string pointer, string property, Type enumType)
    {
        var info = ConfigJsonContext.Default.Options.GetTypeInfo(enumType);
        var modelNames = Enum.GetValuesAsUnderlyingType(enumType).Cast<object>()
            .Select(v => JsonSerializer.Serialize(Enum.ToObject(enumType, v), info).Trim('"'));
        var schemaProperty = SchemaObject(pointer).GetProperty("properties").GetProperty(property);
        if (schemaProperty.TryGetProperty("items", out var items)) schemaProperty = items; // an array of the enum
        var schemaNames = schemaProperty.GetProperty("enum").EnumerateArray().Select(e => e.GetString());
        Assert.Equal(modelNames, schemaNames);
    }

    [Theory]
    [InlineData("$defs/port", "{ \"name\": \"eth0\", \"unclaimed\": \"kernel\" }")]
    [InlineData("$defs/pair", "\"mode\": \"l2\",")]
    [InlineData("$defs/tenant", "\"netns\": \"ns-a\",")]
    [InlineData("$defs/side", "\"policy\": \"pass\",")]
    [InlineData("$defs/chainEntry", "\"program\": \"count\" }")]
    [InlineData("$defs/program", "\"section\": \"tc\" }")]
    [InlineData("$defs/mapEntry", "\"key\": 22,")]
    [InlineData("$defs/leds", "\"state\": \"on\",")]
    [InlineData("$defs/led", "\"trigger\": \"status\" }")]
    public void AnUnknownMemberIsRefusedByBoth(string definition, string anchor)
    {
        // Insert "bogus": 1 into the object that contains the anchor text.
        string text = anchor.StartsWith('{')
            ? ConfigTexts.With(anchor, anchor.Insert(1, " \"bogus\": 1,"))
            : anchor.EndsWith('}') ? ConfigTexts.With(anchor, anchor[..^1] + ", \"bogus\": 1 }") : ConfigTexts.With(anchor, anchor + " \"bogus\": 1,");
        Assert.NotEmpty(ConfigSchema.Errors(text));
        var error = Assert.Single(ConfigTexts.Load(text).Errors);
        Assert.EndsWith(".bogus", error.JsonPath);
        Assert.True(ConfigSchema.Errors(text).Any(e => e.Contains("/bogus: ", StringComparison.Ordinal)), $"{definition} must refuse \"bogus\"");
    }

    /// <summary>Structure cases the schema cannot express; the loader is stricter there.</summary>
    /// <remarks>JSON Schema cannot see duplicate keys (a parsed document keeps one) and has no 32-bit integer type.</remarks>
    private static readonly HashSet<string> LoaderOnly = ["huge integer", "duplicate member", "duplicate map name"];

    public static TheoryData<string, string, string> StructureEdits()
    {
        var edits = new TheoryData<string, string, string>();
        foreach (var row in SingleErrorCases.Structure()) edits.Add((string)row[0], (string)row[1], (string)row[2]);
        return edits;
    }

    [Theory]
    [MemberData(nameof(StructureEdits))]
    public void SchemaRefusesWhatTheLoaderRefusesForItsShape(string name, string from, string to)
    {
        string text = ConfigTexts.With(from, to);
        Assert.NotEmpty(ConfigTexts.Load(text).Errors);
        if (LoaderOnly.Contains(name)) Assert.Empty(ConfigSchema.Errors(text));
        else Assert.NotEmpty(ConfigSchema.Errors(text));
    }
}
