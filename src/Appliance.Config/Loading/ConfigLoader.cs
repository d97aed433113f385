using System.Text.Json;

namespace Appliance.Config;

/// <summary>
/// Loads a config file: encoding → JSON syntax → structure (against the source-generated model metadata)
/// → deserialization with System.Text.Json source generation → semantic rules → (optionally) object files.
/// Every stage reports all the problems it finds as located <see cref="ConfigError"/>s. Encoding and syntax
/// errors stop the load (there is no tree to check). Structure errors do not stop the semantic rules: they
/// run on the sound part of the file (<see cref="SoundPartValidation"/>). Object files are inspected only
/// for a config without any other error.
/// </summary>
public static class ConfigLoader
{
    public static ConfigLoadResult LoadFile(string path, ConfigLoadOptions? options = null)
    {
        string baseDirectory = DirectoryOf(path);
        byte[] bytes;
        try
        {
            if (string.IsNullOrWhiteSpace(path)) return FileFailure(path, baseDirectory, "no config file named (the path is empty)");
            var info = new FileInfo(path);
            if (Directory.Exists(path)) return FileFailure(path, baseDirectory, "is a directory; expected a JSON config file");
            if (!info.Exists) return FileFailure(path, baseDirectory, "file not found");
            if (info.Length > ConfigLimits.MaxFileBytes)
                return FileFailure(path, baseDirectory,
                    $"file is {info.Length} bytes; a config may be at most {ConfigLimits.MaxFileBytes} bytes ({ConfigLimits.MaxFileBytes / (1024 * 1024)} MiB)");
            bytes = Appliance.Interop.UserFile.ReadAll(path, ConfigLimits.MaxFileBytes); // a device is refused, a pipe read within 5 s: never waited on for ever
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            return FileFailure(path, baseDirectory, $"cannot read the file: {e.Message}");
        }
        return LoadBytes(bytes, path, baseDirectory, options) with { Bytes = bytes };
    }

    public static ConfigLoadResult LoadBytes(byte[] bytes, string fileName, string baseDirectory, ConfigLoadOptions? options = null)
    {
        var errors = new List<ConfigError>();
        var source = SourceDecoder.Decode(fileName, bytes, errors);
        if (source is null) return Failed(errors, baseDirectory, null);
        var tree = JsonSyntaxParser.Parse(source, errors);
        if (tree is null) return Failed(errors, baseDirectory, null);

        var map = new ConfigSourceMap(fileName);
        var unsound = new UnsoundParts();
        var soundTree = new StructureChecker(source, ConfigJsonContext.Default.Options, map, errors, unsound)
            .Check(tree, typeof(ApplianceConfig), new JsonPathBuilder(), nullAllowed: false);
        if (errors.Count > 0)
        {
            if (soundTree is not null) errors.AddRange(SoundPartValidation.Run(soundTree, unsound, map));
            return Failed(errors, baseDirectory, map);
        }

        var config = Deserialize(source, errors);
        if (config is null) return Failed(errors, baseDirectory, map);

        var issues = ConfigValidator.Validate(config);
        if (issues.Items.Count == 0 && options?.ProgramObjects is not null)
            ProgramObjectCheck.Run(config, baseDirectory, options, issues);
        errors.AddRange(issues.Items.Select(i => map.Error(i.Path, i.Message)));
        return errors.Count > 0
            ? Failed(errors, baseDirectory, map)
            : new ConfigLoadResult { Config = config, BaseDirectory = baseDirectory, SourceMap = map };
    }

    /// <summary>
    /// The model, via the source-generated serializer. The structure check has already refused everything it
    /// would fail on; the catches are kept so a gap between the two can never escape as an exception.
    /// </summary>
    private static ApplianceConfig? Deserialize(SourceText source, List<ConfigError> errors)
    {
        try
        {
            return JsonSerializer.Deserialize(source.Utf8.Span, ConfigJsonContext.Default.ApplianceConfig)
                   ?? throw new JsonException("expected a JSON object, got null");
        }
        catch (JsonException e)
        {
            var at = source.PositionOf(e.LineNumber ?? 0, e.BytePositionInLine ?? 0);
            errors.Add(new ConfigError(source.FileName, at.Line, at.Column, e.Path ?? "$", e.Message));
        }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or FormatException or OverflowException)
        {
            errors.Add(new ConfigError(source.FileName, 1, 1, "$", e.Message));
        }
        return null;
    }

    private static string DirectoryOf(string fileName)
    {
        try { return Path.GetDirectoryName(Path.GetFullPath(fileName)) ?? "."; }
        catch (ArgumentException) { return "."; }
    }

    private static ConfigLoadResult FileFailure(string path, string baseDirectory, string message) =>
        Failed([new ConfigError(path, 1, 1, "$", message)], baseDirectory, null);

    private static ConfigLoadResult Failed(List<ConfigError> errors, string baseDirectory, ConfigSourceMap? map) =>
        new() { Errors = errors, BaseDirectory = baseDirectory, SourceMap = map };
}
