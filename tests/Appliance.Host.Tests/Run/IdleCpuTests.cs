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
