using System.Globalization;
using Appliance.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Appliance.Host.Tests.Run;

/// <summary>An idle appliance sleeps: with a port and a pair configured and no traffic, the whole process (every
/// forwarding worker, the flooder, the link watcher, the control socket, the LED and health loops) uses well under
/// a core. A generous bound that still fails when a worker spins (a busy-polling worker takes ~100 %).</summary>
[Collection(KernelCollection.Name)]
public sealed class IdleCpuTests(ITestOutputHelper output)
{
    [PrivilegedFact]
    public void AnIdleApplianceUsesUnderFivePercentOfOneCore()
    {
        using var board = new RunBoard();
        board.WriteConfig(peerPolicy: "pass");
        using var app = ApplianceProcess.Start(board.ConfigFile, board.Socket);
        app.WaitReady();
        Assert.True(board.TenantPings(), "the pair forwards (the workers are up)\n" + app.Output);
        Thread.Sleep(1000); // the last ping's spin-down

        double before = CpuSeconds(app.Pid);
        var wall = System.Diagnostics.Stopwatch.StartNew();
        Thread.Sleep(5000);
        double used = CpuSeconds(app.Pid) - before;
        double share = used / wall.Elapsed.TotalSeconds;
        output.WriteLine($"idle: {share:P2} of one core ({used:F3} s CPU in {wall.Elapsed.TotalSeconds:F1} s)");
        Assert.False(app.HasExited, app.Output);
        Assert.True(share < 0.05, $"idle appliance used {share:P1} of one core ({used:F3} s CPU in {wall.Elapsed.TotalSeconds:F1} s)");
        Assert.Equal(0, app.Signal(15));
    }

    /// <summary>The main thread's health check sleeps on the forwarding engine's fault signal and the stop: with no
    /// systemd watchdog and the last good copy not due yet (30 s after the start), it makes no wake-up over 6 idle
    /// seconds (it woke every 5 s).</summary>
    [PrivilegedFact]
    public void TheIdleHealthCheckSleepsUntilAFaultOrTheStop()
    {
        using var board = new RunBoard();
        board.WriteConfig(peerPolicy: "pass");
        using var app = ApplianceProcess.Start(board.ConfigFile, board.Socket);
        app.WaitReady();
        int main = Assert.Single(ThreadWakeups.ThreadsNamed(app.Pid, "meta-appliance")); // the process's first thread
        Assert.Equal(app.Pid, main);
        Assert.True(ThreadWakeups.Settle(app.Pid, [main], out var before), "the main thread never settled\n" + app.Output);
        Thread.Sleep(6000);
        long woke = ThreadWakeups.Of(app.Pid, main) - before[0];
        Assert.False(app.HasExited, app.Output);
        Assert.True(woke == 0, $"the main thread woke {woke} times in 6 idle seconds\n{app.Output}");
        Assert.Equal(0, app.Signal(15)); // the stop still wakes it
    }

    /// <summary>utime + stime of the process (all threads) from /proc/PID/stat, in seconds.</summary>
    public static double CpuSeconds(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        // Fields after the ")" that closes the command name: state is field 3, utime 14, stime 15.
        var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        long ticks = long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture);
        return ticks / (double)ClockTicksPerSecond;
    }

    private static readonly long ClockTicksPerSecond = long.Parse(Shell.Check("getconf", "CLK_TCK").Trim(), CultureInfo.InvariantCulture);
}
