using System.Globalization;
using System.Text;
using Appliance.Config;

namespace Appliance.Datapath.Diagnostics;

/// <summary>Writes log lines to a <see cref="TextWriter"/> (stderr in the appliance: <see cref="Log.Default"/>;
/// a <see cref="StringWriter"/> in tests), one line per event, in one of two formats:
/// <list type="bullet">
/// <item><see cref="LogFormat.Text"/>: <c>2026-11-25T01:02:03.456Z info  datapath: attached xdp if=eth0 why="no native xdp"</c>
/// (fields as key=value, quoted when empty or holding a space, quote, '=' or control character).</item>
/// <item><see cref="LogFormat.Json"/>: <c>{"time":"2026-11-25T01:02:03.456Z","level":"info","source":"datapath","message":"attached xdp","if":"eth0"}</c>
/// — integers, finite floating-point numbers and booleans stay JSON numbers and booleans, everything else is a string;
/// a field named like one of the four fixed members gets a leading '_'.</item>
/// </list>
/// Written by hand into one reused buffer (no reflection, no serializer); a line is one write, under a lock, so
/// lines of different threads never interleave. A failing sink (a closed stderr) loses the line, never the caller.
/// Callers on the per-packet path log only through <see cref="RateLimited"/>.</summary>
public sealed class Logger(TextWriter sink, LogFormat format = LogFormat.Text)
{
    private static readonly string[] Reserved = ["time", "level", "source", "message"];
    private readonly object _gate = new();
    private readonly StringBuilder _line = new(256);
    private TextWriter _sink = sink;

    public LogFormat Format { get; set; } = format;

    public LogLevel MinimumLevel { get; set; } = LogLevel.Info;

    public Func<DateTime> Clock { get; set; } = static () => DateTime.UtcNow;

    public void SetSink(TextWriter sink)
    {
        lock (_gate) _sink = sink;
    }

    public bool IsEnabled(LogLevel level) => level >= MinimumLevel;

    public void Debug(string component, string message, params (string Key, object? Value)[] fields) => Write(LogLevel.Debug, component, message, fields);
    public void Info(string component, string message, params (string Key, object? Value)[] fields) => Write(LogLevel.Info, component, message, fields);
    public void Warn(string component, string message, params (string Key, object? Value)[] fields) => Write(LogLevel.Warn, component, message, fields);
    public void Error(string component, string message, params (string Key, object? Value)[] fields) => Write(LogLevel.Error, component, message, fields);

    public void Write(LogLevel level, string component, string message, params (string Key, object? Value)[] fields)
    {
        if (level < MinimumLevel) return;
        var time = Clock();
        lock (_gate)
        {
            _line.Clear();
            if (Format == LogFormat.Json) AppendJson(_line, time, level, component, message, fields);
            else AppendText(_line, time, level, component, message, fields);
            try
            {
                _sink.WriteLine(_line.ToString());
                _sink.Flush();
            }
            catch (IOException)
            {
                // stderr closed or full: the line is lost, the appliance goes on
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    private static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Debug => "debug",
        LogLevel.Info => "info",
        LogLevel.Warn => "warn",
        _ => "error",
    };

    private static void AppendTime(StringBuilder sb, DateTime time) =>
        sb.Append(time.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture));

    private static void AppendText(StringBuilder sb, DateTime time, LogLevel level, string component, string message, (string Key, object? Value)[] fields)
    {
        AppendTime(sb, time);
        sb.Append(' ').Append(LevelName(level).PadRight(5)).Append(' ').Append(component).Append(": ");
        PrintableText.Append(sb, message); // a config error or a name may hold a newline or an escape sequence
        foreach (var (key, value) in fields)
        {
            var s = Text(value);
            sb.Append(' ').Append(key).Append('=');
            if (!NeedsQuotes(s))
            {
                sb.Append(s);
                continue;
            }
            sb.Append('"');
            foreach (var c in s)
            {
                switch (c)
                {
                    case '"': sb.Append("\\\""); break;
                    case '\\': sb.Append("\\\\"); break;
                    default: PrintableText.Append(sb, new ReadOnlySpan<char>(in c)); break;
                }
            }
            sb.Append('"');
        }
    }

    private static bool NeedsQuotes(string s)
    {
        if (s.Length == 0) return true;
        foreach (var c in s)
            if (c <= ' ' || c == '"' || c == '=' || c == '\\' || PrintableText.NeedsEscape(c)) return true;
        return false;
    }

    private static string Text(object? value) => value switch
    {
        null => "",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static void AppendJson(StringBuilder sb, DateTime time, LogLevel level, string component, string message, (string Key, object? Value)[] fields)
    {
        sb.Append("{\"time\":\"");
        AppendTime(sb, time);
        sb.Append("\",\"level\":\"").Append(LevelName(level)).Append("\",\"source\":");
        AppendJsonString(sb, component);
        sb.Append(",\"message\":");
        AppendJsonString(sb, message);
        foreach (var (key, value) in fields)
        {
            sb.Append(',');
            AppendJsonString(sb, Array.IndexOf(Reserved, key) >= 0 ? "_" + key : key);
            sb.Append(':');
            AppendJsonValue(sb, value);
        }
        sb.Append('}');
    }

    private static void AppendJsonValue(StringBuilder sb, object? value)
    {
        switch (value)
        {
            case null: sb.Append("null"); break;
            case bool b: sb.Append(b ? "true" : "false"); break;
            case sbyte or byte or short or ushort or int or uint or long or ulong:
                sb.Append(((IFormattable)value).ToString(null, CultureInfo.InvariantCulture));
                break;
            case double d when double.IsFinite(d): sb.Append(d.ToString("R", CultureInfo.InvariantCulture)); break;
            case float f when float.IsFinite(f): sb.Append(f.ToString("R", CultureInfo.InvariantCulture)); break;
            case decimal m: sb.Append(m.ToString(CultureInfo.InvariantCulture)); break;
            default: AppendJsonString(sb, Text(value)); break;
        }
    }

    /// <summary>A JSON string literal (RFC 8259): quote, backslash, control characters and U+2028/U+2029 escaped,
    /// an unpaired surrogate (not text) written as U+FFFD, so any JSON reader takes the line whatever a message holds.</summary>
    internal static void AppendJsonString(StringBuilder sb, string s)
    {
        sb.Append('"');
        int start = 0;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                i++;
                continue;
            }
            string? escape = c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ => null,
            };
            if (escape is null && c >= ' ' && c != '\u007f' && c != '\u2028' && c != '\u2029' && !char.IsSurrogate(c)) continue;
            sb.Append(s, start, i - start);
            if (escape is not null) sb.Append(escape);
            else if (char.IsSurrogate(c)) sb.Append("\\ufffd");
            else sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            start = i + 1;
        }
        sb.Append(s, start, s.Length - start).Append('"');
    }
}
