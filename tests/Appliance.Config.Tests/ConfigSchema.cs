using System.Text.Json;
using Json.Schema;

namespace Appliance.Config.Tests;

/// <summary>config.schema.json, built once, with a helper that lists what it rejects in a JSON text.</summary>
internal static class ConfigSchema
{
    private static readonly Lazy<JsonSchema> Schema = new(() => JsonSchema.FromText(File.ReadAllText(RepoPaths.Schema)));

    public static JsonDocument Document { get; } = JsonDocument.Parse(File.ReadAllText(RepoPaths.Schema));

    /// <summary>Schema errors of <paramref name="json"/> as "instance-location: message"; empty when valid.</summary>
    public static List<string> Errors(string json)
    {
        using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        var results = Schema.Value.Evaluate(doc.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (results.IsValid) return [];
        var errors = (results.Details ?? [])
            .Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Key}: {e.Value}"))
            .ToList();
        return errors.Count > 0 ? errors : ["invalid (no details)"];
    }
}
