using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Appliance.Config;

/// <summary>Source-generated JSON for error lists (`validate --json`, the control socket).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(IReadOnlyList<ConfigError>))]
public sealed partial class ConfigErrorJsonContext : JsonSerializerContext
{
    /// <summary>Same metadata, writing quotes and non-ASCII as themselves (the output is read by people and tools, not embedded in HTML).</summary>
    public static ConfigErrorJsonContext Readable { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
