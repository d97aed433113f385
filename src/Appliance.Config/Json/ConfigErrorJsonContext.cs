using System.Text.Json.Serialization;

namespace Appliance.Config;

/// <summary>Source-generated JSON for error lists (`validate --json`, the control socket).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(IReadOnlyList<ConfigError>))]
public sealed partial class ConfigErrorJsonContext : JsonSerializerContext;
