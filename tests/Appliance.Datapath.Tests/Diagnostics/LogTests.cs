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
