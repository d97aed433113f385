using System.Text.Json;

namespace Appliance.Config.Tests;

/// <summary>The README's "Config reference" stays in step with the examples and the schema.</summary>
public class ReadmeConfigReferenceTests
{
    private static string Section()
    {
        string readme = File.ReadAllText(Path.Combine(RepoPaths.Root, "README.md"));
        int start = readme.IndexOf("\n## Config reference", StringComparison.Ordinal);
        Assert.True(start >= 0, "README.md has no \"## Config reference\" section");
        int end = readme.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        return end < 0 ? readme[start..] : readme[start..end];
    }

    [Fact]
    public void FullExampleIsTheQemuVirtExampleVerbatim()
    {
        string section = Section();
        int open = section.IndexOf("```json\n", StringComparison.Ordinal);
        int close = section.IndexOf("\n```", open + 8, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllText(Path.Combine(RepoPaths.Examples, "qemu-virt.json")).TrimEnd(), section[(open + 8)..close].TrimEnd());
    }

    [Fact]
    public void EverySchemaMemberIsDocumented()
    {
        string section = Section();
        var names = new SortedSet<string>(StringComparer.Ordinal);
        Collect(ConfigSchema.Document.RootElement, names);
        var missing = names.Where(n => !section.Contains($"| `{n}` |", StringComparison.Ordinal)).ToList();
        Assert.True(missing.Count == 0, "README Config reference has no table row for: " + string.Join(", ", missing));
    }

    private static void Collect(JsonElement schema, SortedSet<string> names)
    {
        if (schema.ValueKind != JsonValueKind.Object) return;
        foreach (var member in schema.EnumerateObject())
        {
            if (member.Name == "properties")
                foreach (var property in member.Value.EnumerateObject()) names.Add(property.Name);
            if (member.Value.ValueKind == JsonValueKind.Object) Collect(member.Value, names);
        }
    }
}
