using System.Text.Json;

namespace Appliance.Config;

/// <summary>
/// Semantic rules for a file whose structure has errors: they run on the sound part the structure check
/// kept, so a wrong type in one place does not hide a dangling reference in another. Findings are mapped
/// back to the file's own paths, and those that are only a consequence of what was left out are dropped:
/// anything at or inside a removed value, and "unknown" references to a name a dropped definition may carry.
/// Never invents an error: when the sound part cannot be read as a model, it reports nothing more.
/// </summary>
internal static class SoundPartValidation
{
    public static List<ConfigError> Run(JsonSyntaxNode soundTree, UnsoundParts unsound, ConfigSourceMap map)
    {
        var config = Deserialize(soundTree);
        if (config is null) return [];
        var issues = ConfigValidator.Validate(config);
        var errors = new List<ConfigError>();
        for (int i = 0; i < issues.Items.Count; i++)
        {
            if (issues.UnknownReferenceOf(i) is { } reference && unsound.MayDefine(reference)) continue;
            var (soundPath, message) = issues.Items[i];
            string path = SoundPathTranslator.ToOriginalPath(soundPath, unsound.KeptIndices);
            if (unsound.Covers(path)) continue;
            errors.Add(map.Error(path, SoundPathTranslator.ToOriginalMessage(message, unsound.KeptIndices)));
        }
        return errors;
    }

    private static ApplianceConfig? Deserialize(JsonSyntaxNode soundTree)
    {
        try
        {
            return JsonSerializer.Deserialize(SoundTreeWriter.ToUtf8(soundTree), ConfigJsonContext.Default.ApplianceConfig);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NotSupportedException or FormatException or OverflowException or ArgumentException)
        {
            return null;
        }
    }
}
