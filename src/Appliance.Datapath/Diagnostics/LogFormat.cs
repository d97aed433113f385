namespace Appliance.Datapath.Diagnostics;

/// <summary>How <see cref="Logger"/> writes a line: <see cref="Text"/> for a person on the console or in the
/// journal, <see cref="Json"/> (one JSON object per line) for a log collector.</summary>
public enum LogFormat
{
    Text,
    Json,
}

public static class LogFormats
{
    /// <summary>The environment variable read for the default format (`--log-format` overrides it).</summary>
    public const string EnvironmentVariable = "META_APPLIANCE_LOG_FORMAT";

    public static LogFormat? Parse(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        "text" => LogFormat.Text,
        "json" => LogFormat.Json,
        _ => null,
    };
}
