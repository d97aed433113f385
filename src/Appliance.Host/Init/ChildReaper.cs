using Appliance.Datapath.Diagnostics;
using System.Runtime.InteropServices;
using Appliance.Interop;

namespace Appliance.Host.Init;

/// <summary>Reaps orphans (PID 1, or a child subreaper) on its own thread: SIGCHLD wakes it, it peeks at exited
/// children with waitid(WNOWAIT) and reaps a zombie with waitpid once it has been a zombie for <see cref="Grace"/>.
/// With no zombie waiting it sleeps until the next SIGCHLD (an idle board never wakes it; a SIGCHLD during a pass
/// stays set on the event and starts the next one, so none is lost). The grace period leaves children started through
/// System.Diagnostics.Process to .NET's own SIGCHLD handling, which reaps them at once and needs their exit
/// status; anything still a zombie after it is an orphan nobody else will wait for.</summary>
public sealed unsafe class ChildReaper : IDisposable
{
    private readonly Logger _log;
    private readonly AutoResetEvent _wake = new(false);
    private readonly Dictionary<int, long> _firstSeen = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private PosixSignalRegistration? _sigchld;

    public ChildReaper(Logger log, TimeSpan? grace = null)
    {
        _log = log;
        Grace = grace ?? TimeSpan.FromSeconds(1);
        _thread = new Thread(Loop) { IsBackground = true, Name = "reaper" };
    }

    public TimeSpan Grace { get; }

    /// <summary>Raised on the reaper thread for every child reaped.</summary>
    public event Action<ReapedChild>? Reaped;

    /// <summary>Makes this process the reaper of its orphaned descendants when it is not PID 1
    /// (prctl PR_SET_CHILD_SUBREAPER), e.g. `run --init` in a container or a test.</summary>
    public static void BecomeSubreaper(bool enable = true)
    {
        if (InitSyscalls.Prctl(InitSyscalls.PR_SET_CHILD_SUBREAPER, enable ? 1u : 0u, 0, 0, 0) != 0)
            throw PlatformException.FromLastError("prctl(PR_SET_CHILD_SUBREAPER)");
    }

    public void Start()
    {
        if (!OperatingSystem.IsWindows()) _sigchld = PosixSignalRegistration.Create(PosixSignal.SIGCHLD, _ => _wake.Set());
        _thread.Start();
    }

    private void Loop()
    {
        while (!_stop.IsCancellationRequested)
        {
            TimeSpan wait;
            try
            {
                wait = ReapPass();
            }
            catch (Exception e)
            {
                _log.Error("reaper", e.Message);
                wait = TimeSpan.FromSeconds(1); // try again, SIGCHLD or not
            }
            WaitHandle.WaitAny([_wake, _stop.Token.WaitHandle], wait);
        }
    }

    /// <summary>Reaps every zombie older than the grace period; returns how long to wait before the next pass
    /// (<see cref="Timeout.InfiniteTimeSpan"/>: until a child exits).</summary>
    private TimeSpan ReapPass()
    {
        Tmds.Linux.siginfo_t info;
        var now = Environment.TickCount64;
        PruneForgotten(now);
        while (true)
        {
            info = default;
            if (InitSyscalls.WaitId(InitSyscalls.P_ALL, 0, &info, InitSyscalls.WEXITED | InitSyscalls.WNOHANG | InitSyscalls.WNOWAIT) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == Errno.EINTR) continue;
                _firstSeen.Clear(); // ECHILD: no children at all
                return Timeout.InfiniteTimeSpan;
            }
            int pid = info.si_pid;
            if (pid == 0) return Timeout.InfiniteTimeSpan; // children exist, none has exited
            if (!_firstSeen.TryGetValue(pid, out var seen))
            {
                _firstSeen[pid] = now;
                seen = now;
            }
            var age = TimeSpan.FromMilliseconds(now - seen);
            if (age < Grace) return Grace - age;
            int status;
            var reaped = InitSyscalls.WaitPid(pid, &status, InitSyscalls.WNOHANG);
            _firstSeen.Remove(pid);
            if (reaped != pid) continue; // someone else (.NET's Process) got it first
            var child = ReapedChild.FromWaitStatus(pid, status);
            _log.Debug("reaper", $"reaped {child}");
            Reaped?.Invoke(child);
        }
    }

    /// <summary>Drops pids seen long ago that are no longer zombies (.NET reaped them), so the table stays small.</summary>
    private void PruneForgotten(long now)
    {
        var horizon = (long)(Grace.TotalMilliseconds * 10) + 10_000;
        foreach (var (pid, seen) in _firstSeen.ToList())
            if (now - seen > horizon) _firstSeen.Remove(pid);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _sigchld?.Dispose();
        if (_thread.IsAlive) _thread.Join();
        // _wake is not disposed: a SIGCHLD handler already queued on the thread pool may still Set() it after
        // the registration is gone, and an ObjectDisposedException there would take the process down.
        _stop.Dispose();
    }
}
