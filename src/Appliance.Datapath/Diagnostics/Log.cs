namespace Appliance.Datapath.Diagnostics;

/// <summary>The process's logger: every component of the datapath, the runtime and the host logs through
/// <see cref="Default"/> (or a <see cref="Logger"/> handed to it, which in the running appliance is the same
/// one), on stderr, where the journal or the serial console reads it. Text lines look like
/// <c>2026-11-25T01:02:03.456Z info  datapath: attached xdp mode=generic if=eth0</c>; with
/// <see cref="Format"/> = <see cref="LogFormat.Json"/> each line is one JSON object (see <see cref="Logger"/>).
/// Per-packet events go through <see cref="RateLimited"/> so a flood cannot drown the console.
/// $META_APPLIANCE_LOG sets the minimum level, $META_APPLIANCE_LOG_FORMAT the format.</summary>
public static class Log
{
    public static Logger Default { get; } = new(Console.Error,
        LogFormats.Parse(Environment.GetEnvironmentVariable(LogFormats.EnvironmentVariable)) ?? LogFormat.Text)
    {
        MinimumLevel = Environment.GetEnvironmentVariable("META_APPLIANCE_LOG") is { } l && Enum.TryParse<LogLevel>(l, true, out var v) ? v : LogLevel.Info,
    };

    public static LogLevel MinimumLevel
    {
        get => Default.MinimumLevel;
        set => Default.MinimumLevel = value;
    }

    public static LogFormat Format
    {
        get => Default.Format;
        set => Default.Format = value;
    }

    public static Func<DateTime> Clock
    {
        get => Default.Clock;
        set => Default.Clock = value;
    }

    public static void SetSink(TextWriter sink) => Default.SetSink(sink);

    public static void Debug(string component, string message, params (string Key, object? Value)[] fields) => Default.Write(LogLevel.Debug, component, message, fields);
    public static void Info(string component, string message, params (string Key, object? Value)[] fields) => Default.Write(LogLevel.Info, component, message, fields);
    public static void Warn(string component, string message, params (string Key, object? Value)[] fields) => Default.Write(LogLevel.Warn, component, message, fields);
    public static void Error(string component, string message, params (string Key, object? Value)[] fields) => Default.Write(LogLevel.Error, component, message, fields);

    public static void Write(LogLevel level, string component, string message, params (string Key, object? Value)[] fields) =>
        Default.Write(level, component, message, fields);
}
