using Appliance.Config;
using Appliance.Host.State;

namespace Appliance.Host.Control;

/// <summary>Commit-confirm (`reload --confirm SECONDS`, and edits of the file when the host is told to confirm them):
/// the change is applied, and rolled back to the config that ran before it unless `meta-appliance confirm` arrives
/// within the time. While one waits, the status LED blinks 500/500 ms and `status` shows the deadline; a further
/// change keeps the first rollback point and restarts the clock. A rollback applies the previous config, writes its
/// text back into the config file and keeps the unconfirmed file as config.unconfirmed.json.
/// <para>Restart rule: while a confirmation waits, config.confirm-pending.json beside the config holds the previous
/// text. An appliance that starts and finds it was stopped (or lost power) before the change was confirmed: the
/// previous config is written back and boots, the unconfirmed one is kept as config.unconfirmed.json
/// (<see cref="RestoreAfterRestart"/>).</para>
/// <para>After a rollback, <c>rolledBack</c> re-arms what follows the running config (the file watcher on the restored
/// config's files, the LEDs' packet counters and carrier monitor), as after any reload.</para></summary>
public sealed class CommitConfirm : IDisposable
{
    public const string PendingFileName = "config.confirm-pending.json", UnconfirmedFileName = "config.unconfirmed.json";

    private readonly ConfigReload _reload;
    private readonly ApplianceState _state;
    private readonly Action<string> _log;
    private readonly Action? _rolledBack;
    private readonly Timer _timer;
    private readonly object _gate = new();
    private ApplianceConfig? _previous;
    private byte[]? _previousBytes;

    public CommitConfirm(ConfigReload reload, ApplianceState state, Action<string> log, Action? rolledBack = null)
    {
        _reload = reload;
        _state = state;
        _log = log;
        _rolledBack = rolledBack;
        _timer = new Timer(_ => Expire(), null, Timeout.Infinite, Timeout.Infinite);
    }

    public DateTime? Deadline { get; private set; }

    public static string PendingPathFor(string configPath) => Beside(configPath, PendingFileName);
    public static string UnconfirmedPathFor(string configPath) => Beside(configPath, UnconfirmedFileName);
    private static string Beside(string configPath, string name) => Path.Combine(Path.GetDirectoryName(Path.GetFullPath(configPath)) ?? ".", name);

    /// <summary>Called after a change was applied from <paramref name="previous"/> (whose file held
    /// <paramref name="previousBytes"/>): it is rolled back after <paramref name="timeout"/> unless confirmed.</summary>
    public void Begin(ApplianceConfig previous, byte[]? previousBytes, TimeSpan timeout)
    {
        lock (_gate)
        {
            if (_previous is null)
            {
                _previous = previous;
                _previousBytes = previousBytes;
                if (previousBytes is not null) File.WriteAllBytes(PendingPathFor(_reload.File), previousBytes);
            }
            Deadline = DateTime.UtcNow + timeout;
            _state.ConfirmDeadline = Deadline;
            _timer.Change(timeout, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>`meta-appliance confirm`: the change stays.</summary>
    public ControlResponse Confirm()
    {
        lock (_gate)
        {
            if (_previous is null) return ControlResponse.Failure("no change waits for confirmation");
            Clear();
            _log("change confirmed; it stays");
            return ControlResponse.Success("confirmed: the change stays");
        }
    }

    private void Expire()
    {
        lock (_gate)
        {
            if (_previous is null || Deadline is not { } deadline || DateTime.UtcNow < deadline - TimeSpan.FromMilliseconds(50)) return;
            var previous = _previous;
            var bytes = _previousBytes;
            _log($"no confirmation by {deadline:HH:mm:ss} UTC: rolling back to the previous config");
            if (bytes is not null)
            {
                try
                {
                    File.Copy(_reload.File, UnconfirmedPathFor(_reload.File), overwrite: true);
                    File.WriteAllBytes(_reload.File, bytes);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    _log($"could not restore the previous config file: {e.Message}");
                }
            }
            var r = _reload.ApplyConfig(previous, bytes);
            _log(r.Ok ? $"rolled back: {r.Body.Trim()}" : $"rollback failed: {r.Error}");
            Clear();
            if (r.Ok) _rolledBack?.Invoke();
        }
    }

    private void Clear()
    {
        _timer.Change(Timeout.Infinite, Timeout.Infinite);
        _previous = null;
        _previousBytes = null;
        Deadline = null;
        _state.ConfirmDeadline = null;
        try { File.Delete(PendingPathFor(_reload.File)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>At start: a change that was never confirmed (config.confirm-pending.json is there) is undone in the
    /// file, so the previous config boots. Returns what it did, or null.</summary>
    public static string? RestoreAfterRestart(string configPath)
    {
        var pending = PendingPathFor(configPath);
        if (!File.Exists(pending)) return null;
        if (File.Exists(configPath)) File.Copy(configPath, UnconfirmedPathFor(configPath), overwrite: true);
        File.Copy(pending, configPath, overwrite: true);
        File.Delete(pending);
        return $"a change was not confirmed before the appliance stopped: the previous config boots (the unconfirmed one is kept as {UnconfirmedFileName})";
    }

    public void Dispose() => _timer.Dispose();
}
