using Appliance.Datapath.Diagnostics;
using Appliance.Host.Init;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Host.Tests.Init;

/// <summary>Real signals sent to the test process itself. If the handler were not installed (or did not
/// cancel the default action) SIGTERM would kill the test host and the run would fail loudly.</summary>
[Collection(KernelCollection.Name)]
public sealed class ShutdownSignalsTests
{
    private const int SIGTERM = 15, SIGINT = 2;

    [Theory]
    [InlineData(SIGTERM)]
    [InlineData(SIGINT)]
    public void As_a_service_sigterm_and_sigint_request_a_clean_shutdown(int signal)
    {
        var log = new StringWriter();
        using var signals = new ShutdownSignals(isPid1: false, new Logger(TextWriter.Synchronized(log)));
        Assert.False(signals.Token.IsCancellationRequested);
        Assert.Equal(0, Tmds.Linux.LibC.kill(Environment.ProcessId, signal));
        Assert.True(signals.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds(30)), "the shutdown token was not cancelled");
        Assert.Contains("shutting down", log.ToString());
    }

    [Fact]
    public void As_pid_1_sigterm_is_logged_and_ignored()
    {
        var log = new StringWriter();
        var synced = TextWriter.Synchronized(log);
        using var signals = new ShutdownSignals(isPid1: true, new Logger(synced));
        Assert.Equal(0, Tmds.Linux.LibC.kill(Environment.ProcessId, SIGTERM));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!log.ToString().Contains("ignored: PID 1 never exits") && DateTime.UtcNow < deadline) Thread.Sleep(20);
        Assert.Contains("ignored: PID 1 never exits", log.ToString());
        Assert.False(signals.Token.IsCancellationRequested);
    }
}
