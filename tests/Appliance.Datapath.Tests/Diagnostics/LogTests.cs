using System.Text.Json;
using Appliance.Datapath.Diagnostics;
using Xunit;

namespace Appliance.Datapath.Tests.Diagnostics;

public sealed class LogTests
{
    [Fact]
    public void RateLimiterPassesABurstPerIntervalAndReportsWhatItSuppressed()
    {
        long now = 0;
        var rl = new RateLimited(2, TimeSpan.FromSeconds(1), () => now);
        Assert.True(rl.TryEnter(out var s0));
        Assert.True(rl.TryEnter(out _));
        for (int i = 0; i < 5; i++) Assert.False(rl.TryEnter(out _));
        Assert.Equal(5, rl.Suppressed);
        Assert.Equal(0, s0);
        now = 1000;
        Assert.True(rl.TryEnter(out var s1));
        Assert.Equal(5, s1);
        Assert.Equal(0, rl.Suppressed);
    }
}

[Collection("log sink")]
public sealed class LogFormatTests
{
    [Fact]
    public void LinesCarryTimeLevelComponentAndQuotedFields()
    {
        var w = new StringWriter();
        var oldClock = Log.Clock;
        Log.SetSink(w);
        Log.Clock = () => new DateTime(2026, 11, 25, 1, 2, 3, 456, DateTimeKind.Utc);
        try
        {
            Log.Info("datapath", "attached xdp", ("if", "eth0"), ("mode", "generic"), ("why", "no native \"xdp\""));
            Log.Debug("datapath", "hidden at info level");
        }
        finally
        {
            Log.SetSink(Console.Error);
            Log.Clock = oldClock;
        }
        Assert.Equal("2026-11-25T01:02:03.456Z info  datapath: attached xdp if=eth0 mode=generic why=\"no native \\\"xdp\\\"\"" + Environment.NewLine, w.ToString());
    }
}

public sealed class LoggerFormatTests
{
    private static readonly DateTime At = new(2026, 11, 25, 1, 2, 3, 456, DateTimeKind.Utc);

    private static (Logger Logger, StringWriter Sink) Make(LogFormat format)
    {
        var sink = new StringWriter();
        return (new Logger(sink, format) { Clock = () => At }, sink);
    }

    private static string[] Lines(StringWriter sink) => sink.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public void TextLinesQuoteValuesWithSpacesEqualsQuotesAndNewlines()
    {
        var (log, sink) = Make(LogFormat.Text);
        log.Warn("run", "reload refused", ("trigger", "inotify"), ("error", "line 1\nline \"2\""), ("empty", ""), ("n", 42));
        Assert.Equal("2026-11-25T01:02:03.456Z warn  run: reload refused trigger=inotify error=\"line 1\\nline \\\"2\\\"\" empty=\"\" n=42",
            Assert.Single(Lines(sink)));
    }

    [Fact]
    public void TextLinesEscapeControlCharactersInMessagesAndValues()
    {
        // A config error or a name can carry an escape sequence or a newline: one event stays one line and the
        // terminal or journal viewer never gets the raw bytes.
        var (log, sink) = Make(LogFormat.Text);
        log.Error("run", "reload refused: board \"a\u001b[2J\nfake line\"", ("name", "x\u001b]0;t\u0007"), ("rtl", "a\u202eb"));
        Assert.Equal("2026-11-25T01:02:03.456Z error run: reload refused: board \"a\\u001b[2J\\nfake line\" name=\"x\\u001b]0;t\\u0007\" rtl=\"a\\u202eb\"",
            Assert.Single(Lines(sink)));
    }

    [Fact]
    public void JsonLinesHoldTimeLevelSourceMessageAndTypedFields()
    {
        var (log, sink) = Make(LogFormat.Json);
        log.Info("runtime", "port claimed", ("port", "eth0"), ("pairs", 3), ("rx", 18446744073709551615UL), ("zeroCopy", false),
            ("ratio", 0.25), ("nan", double.NaN), ("none", null), ("mode", LogFormat.Json));
        using var doc = JsonDocument.Parse(Assert.Single(Lines(sink)));
        var o = doc.RootElement;
        Assert.Equal("2026-11-25T01:02:03.456Z", o.GetProperty("time").GetString());
        Assert.Equal("info", o.GetProperty("level").GetString());
        Assert.Equal("runtime", o.GetProperty("source").GetString());
        Assert.Equal("port claimed", o.GetProperty("message").GetString());
        Assert.Equal("eth0", o.GetProperty("port").GetString());
        Assert.Equal(3, o.GetProperty("pairs").GetInt32());
        Assert.Equal(ulong.MaxValue, o.GetProperty("rx").GetUInt64());
        Assert.Equal(JsonValueKind.False, o.GetProperty("zeroCopy").ValueKind);
        Assert.Equal(0.25, o.GetProperty("ratio").GetDouble());
        Assert.Equal("NaN", o.GetProperty("nan").GetString());
        Assert.Equal(JsonValueKind.Null, o.GetProperty("none").ValueKind);
        Assert.Equal("Json", o.GetProperty("mode").GetString());
    }

    [Fact]
    public void JsonEscapesWhateverAMessageHolds()
    {
        var (log, sink) = Make(LogFormat.Json);
        string hostile = "quote \" backslash \\ newline \n tab \t bell \u0007 del \u007f sep \u2028 lone \ud800 pair \ud83d\ude00 é";
        log.Error("config", hostile, ("message", "a field named like a fixed member"), ("k\"ey", hostile));
        var line = Assert.Single(Lines(sink));
        Assert.DoesNotContain('\n', line);
        Assert.True(line.All(c => c >= ' '), "no raw control characters on the line");
        using var doc = JsonDocument.Parse(line);
        var o = doc.RootElement;
        Assert.Equal("error", o.GetProperty("level").GetString());
        Assert.Equal("config", o.GetProperty("source").GetString());
        // An unpaired surrogate is no text: it is written as U+FFFD; everything else comes back as written.
        Assert.Equal(hostile.Replace("\ud800", "\ufffd"), o.GetProperty("message").GetString());
        Assert.Equal("a field named like a fixed member", o.GetProperty("_message").GetString());
        Assert.Equal(hostile.Replace("\ud800", "\ufffd"), o.GetProperty("k\"ey").GetString());
        Assert.Contains("\\ufffd", line);
    }

    [Fact]
    public void LevelsBelowTheMinimumAreNotWrittenInEitherFormat()
    {
        foreach (var format in new[] { LogFormat.Text, LogFormat.Json })
        {
            var (log, sink) = Make(format);
            log.MinimumLevel = LogLevel.Warn;
            log.Debug("x", "debug");
            log.Info("x", "info");
            log.Warn("x", "warn");
            log.Error("x", "error");
            var lines = Lines(sink);
            Assert.Equal(2, lines.Length);
            Assert.Contains("warn", lines[0]);
            Assert.Contains("error", lines[1]);
        }
    }

    [Fact]
    public void ASinkThatFailsLosesTheLineButNotTheCaller()
    {
        var closed = new StringWriter();
        closed.Dispose();
        var log = new Logger(closed, LogFormat.Json);
        log.Error("x", "nobody reads this");
        var broken = new Logger(new StreamWriter(new BrokenStream()));
        broken.Error("x", "the pipe is gone");
    }

    [Fact]
    public void ConcurrentWritersNeverInterleaveWithinALine()
    {
        var (log, sink) = Make(LogFormat.Json);
        var threads = Enumerable.Range(0, 4).Select(t => new Thread(() =>
        {
            for (int i = 0; i < 200; i++) log.Info("t" + t, "event", ("i", i), ("padding", new string('x', 100)));
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        var lines = Lines(sink);
        Assert.Equal(800, lines.Length);
        foreach (var line in lines) JsonDocument.Parse(line).Dispose();
    }

    [Theory]
    [InlineData("text", LogFormat.Text)]
    [InlineData(" JSON ", LogFormat.Json)]
    public void FormatNamesParse(string text, LogFormat expected) => Assert.Equal(expected, LogFormats.Parse(text));

    [Fact]
    public void UnknownFormatNamesDoNotParse()
    {
        Assert.Null(LogFormats.Parse("xml"));
        Assert.Null(LogFormats.Parse(null));
    }

    private sealed class BrokenStream : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => 0;
        public override long Position { get => 0; set { } }
        public override void Flush() => throw new IOException("EPIPE");
        public override int Read(byte[] buffer, int offset, int count) => 0;
        public override long Seek(long offset, SeekOrigin origin) => 0;
        public override void SetLength(long value) { }
        public override void Write(byte[] buffer, int offset, int count) => throw new IOException("EPIPE");
    }
}
