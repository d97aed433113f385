using System.Text.Json;
using System.Text.Json.Serialization;

namespace Appliance.Config;

/// <summary>
/// Source-generated System.Text.Json metadata for the config model (AOT-safe). The loader checks a
/// file's structure against this same metadata before deserializing, so the two cannot disagree.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    NumberHandling = JsonNumberHandling.Strict,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    MaxDepth = ConfigLimits.MaxDepth)]
[JsonSerializable(typeof(ApplianceConfig))]
public sealed partial class ConfigJsonContext : JsonSerializerContext;
