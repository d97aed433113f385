using System.Text;

namespace Appliance.Datapath.Diagnostics;

public enum LogLevel
{
    Debug,
    Info,
    Warn,
    Error,
}

/// <summary>Structured log lines on stderr (the journal or the serial console read them):
/// <c>2026-11-25T01:02:03.456Z info  datapath: attached xdp mode=generic if=eth0</c>. Key=value fields
/// follow the message. Per-packet events go through <see cref="RateLimited"/> so a flood cannot drown
/// the console. Thread-safe; the sink is replaceable for tests.</summary>
public static class Log
{
    private static readonly object Gate = new();
    private static TextWriter _sink = Console.Error;

    public static LogLevel MinimumLevel { get; set; } =
        Environment.GetEnvironmentVariable("META_APPLIANCE_LOG") is { } l && Enum.TryParse<LogLevel>(l, true, out var v) ? v : LogLevel.Info;

    public static Func<DateTime> Clock { get; set; } = () => DateTime.UtcNow;

    public static void SetSink(TextWriter sink)
    {
        lock (Gate) _sink = sink;
    }

    public static void Debug(string component, string message, params (string Key, object? Value)[] fields) => Write(LogLevel.Debug, component, message, fields);
    public static void Info(string component, string message, params (string Key, object? Value)[] fields) => Write(LogLevel.Info, component, message, fields);
    public static void Warn(string component, string message, params (string Key, object? Value)[] fields) => Write(LogLevel.Warn, component, message, fields);
    public static void Error(string component, string message, params (string Key, object? Value)[] fields) => Write(LogLevel.Error, component, message, fields);

    public static void Write(LogLevel level, string component, string message, params (string Key, object? Value)[] fields)
    {
        if (level < MinimumLevel) return;
        var sb = new StringBuilder(96);
        sb.Append(Clock().ToString("yyyy-MM-ddTHH:mm:ss.fffZ")).Append(' ')
          .Append(level.ToString().ToLowerInvariant().PadRight(5)).Append(' ')
          .Append(component).Append(": ").Append(message);
        foreach (var (k, val) in fields)
        {
            var s = val?.ToString() ?? "";
            sb.Append(' ').Append(k).Append('=');
            if (s.Length == 0 || s.AsSpan().IndexOfAny(" \"=") >= 0) sb.Append('"').Append(s.Replace("\"", "\\\"")).Append('"');
            else sb.Append(s);
        }
        lock (Gate)
        {
            _sink.WriteLine(sb.ToString());
            _sink.Flush();
        }
    }
}

/// <summary>Lets at most <c>burst</c> events through per interval and counts the rest, then reports how
/// many were suppressed with the next event that passes — like the kernel's printk_ratelimit. One per
/// event kind; cheap when closed (no allocation, no lock on the suppressed path).</summary>
public sealed class RateLimited(int burst, TimeSpan interval, Func<long>? ticks = null)
{
    private readonly Func<long> _ticks = ticks ?? (static () => Environment.TickCount64);
    private readonly long _intervalMs = (long)interval.TotalMilliseconds;
    private long _windowStart = long.MinValue / 2;
    private int _inWindow;
    private long _suppressed;

    public long Suppressed => Interlocked.Read(ref _suppressed);

    /// <summary>True when this event may be logged; <paramref name="suppressedBefore"/> says how many
    /// were dropped since the last one that passed.</summary>
    public bool TryEnter(out long suppressedBefore)
    {
        long now = _ticks();
        suppressedBefore = 0;
        lock (this)
        {
            if (now - _windowStart >= _intervalMs)
            {
                _windowStart = now;
                _inWindow = 0;
            }
            if (_inWindow >= burst)
            {
                _suppressed++;
                return false;
            }
            _inWindow++;
            suppressedBefore = _suppressed;
            _suppressed = 0;
            return true;
        }
    }
}
