using Appliance.Datapath.Diagnostics;
using Appliance.Host.Leds;
using Appliance.Host.Leds.Backends;
using Appliance.Interop;
using Appliance.Host.State;
using Appliance.Host.Time;

namespace Appliance.Host.Init;

/// <summary>`meta-appliance` as PID 1 (or with `--init`): system setup, the child reaper, signal handling,
/// the LED thread, and the supervised appliance body. As PID 1 <see cref="Run"/> never returns; otherwise
/// it returns 0 after SIGTERM/SIGINT once the body has stopped.</summary>
public static class InitProcess
{
    public static bool IsPid1 => LibC.GetPid() == 1;

    /// <summary>Set in the environment of the re-executed init (see <see cref="ReexecWithDevMounted"/>).</summary>
    public const string ReexecMarker = "META_APPLIANCE_INIT_REEXEC";

    /// <summary>The .NET runtime opens /dev/urandom lazily and, if it is missing (an initramfs has no /dev
    /// until we mount devtmpfs), remembers that for good: every Guid.NewGuid/RandomNumberGenerator call then
    /// throws CryptographicException. So PID 1 mounts the early file systems and re-executes itself once
    /// (same PID, fresh runtime state). If exec fails we carry on in this process.</summary>
    private static void ReexecWithDevMounted(Logger log)
    {
        if (Environment.GetEnvironmentVariable(ReexecMarker) is not null) return;
        try
        {
            new SystemSetup(LinuxInitPlatform.Instance, new ApplianceState(), MonotonicTimeSource.Instance, log).MountAll(MountPlan.Early());
            var environment = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
                .Select(e => $"{e.Key}={e.Value}").Append($"{ReexecMarker}=1").ToList();
            log.Info("init", "/dev mounted; re-executing init so the runtime sees /dev/urandom");
            InitSyscalls.Exec("/proc/self/exe", Environment.GetCommandLineArgs(), environment);
            log.Error("init", $"re-exec failed: {PlatformException.FromLastError("execve", "/proc/self/exe").Message}; continuing");
        }
        catch (Exception e)
        {
            log.Error("init", $"re-exec skipped: {e.Message}");
        }
    }

    public static int Run(InitOptions options, ApplianceBody body, Logger? log = null)
    {
        log ??= Log.Default;
        var pid1 = IsPid1;
        var time = MonotonicTimeSource.Instance;
        var state = new ApplianceState();
        log.Info("init", pid1 ? "meta-appliance init starting as PID 1" : "meta-appliance init starting", ("pid", Environment.ProcessId));
        if (pid1 && !options.SkipSystemSetup) ReexecWithDevMounted(log);
        using var signals = new ShutdownSignals(pid1, log);
        try
        {
            if (!options.SkipSystemSetup)
                new SystemSetup(LinuxInitPlatform.Instance, state, time, log).Run(options);
            if (!pid1) ChildReaper.BecomeSubreaper();
        }
        catch (Exception e)
        {
            // Never let a setup bug take PID 1 down: log it, show it, carry on.
            state.RaiseFault(SystemSetup.FaultSource, e.Message);
            log.Error("init", "system setup failed", ("error", e.ToString()));
        }
        using var reaper = new ChildReaper(log);
        reaper.Start();
        using var lines = new LedLineFactory(() => new LibGpiodBackend());
        using var leds = new LedController(lines, state, time, log);
        leds.Start();
        var stopping = pid1 ? CancellationToken.None : signals.Token;
        new Supervisor(state, time, log, options.Backoff, leds).Run(body, stopping);
        while (pid1)
        {
            // Unreachable (the supervisor only returns when stopping is cancelled); kept as the last guard.
            log.Error("init", "supervisor returned as PID 1; holding");
            Thread.Sleep(Timeout.Infinite);
        }
        return 0;
    }
}
