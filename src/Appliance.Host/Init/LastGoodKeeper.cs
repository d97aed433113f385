using Appliance.Datapath.Diagnostics;
using Appliance.Host.Time;

namespace Appliance.Host.Init;

/// <summary>Last known good (SPEC §4): once the config the appliance started from has run healthy (datapath up,
/// no fault) for <c>healthyFor</c> without a break, its bytes as loaded are saved beside the original as
/// config.last-good.json (written to a temporary file and renamed, so a power cut never leaves half a file).
/// Saved at most once per start; a fallback start (already running the last-good copy) saves nothing.</summary>
public sealed class LastGoodKeeper(string configPath, byte[] loadedBytes, TimeSpan healthyFor, ITimeSource time, Logger log, string logName = "run")
{
    private TimeSpan? _healthySince;

    public bool Saved { get; private set; }

    public string LastGoodPath { get; } = ConfigSelection.LastGoodPathFor(configPath);

    /// <summary>How long until the copy is due if health lasts (zero when overdue), or null when nothing is due:
    /// saved already, or not healthy now. The health check sleeps at most this long, so the copy is saved on time
    /// without the check running every second.</summary>
    public TimeSpan? DueIn
    {
        get
        {
            if (Saved || _healthySince is not { } since) return null;
            var left = since + healthyFor - time.Now;
            return left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }
    }

    /// <summary>Called at each health check with whether the appliance is healthy right now (and again when
    /// <see cref="DueIn"/> has passed).</summary>
    public void Observe(bool healthy)
    {
        if (Saved) return;
        if (!healthy)
        {
            _healthySince = null;
            return;
        }
        var now = time.Now;
        _healthySince ??= now;
        if (now - _healthySince.Value < healthyFor) return;
        Saved = true;
        try
        {
            // Read as the config is: a pipe or device put in its place is never waited on for ever (IOException below).
            if (File.Exists(LastGoodPath) && Appliance.Interop.UserFile.ReadAll(LastGoodPath, Appliance.Config.ConfigLimits.MaxFileBytes).AsSpan().SequenceEqual(loadedBytes)) return;
            var temporary = LastGoodPath + ".tmp";
            File.WriteAllBytes(temporary, loadedBytes);
            File.Move(temporary, LastGoodPath, overwrite: true);
            log.Info(logName, $"{configPath} ran healthy for {healthyFor.TotalSeconds:0.###} s; saved as the last known good config", ("file", LastGoodPath));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.Warn(logName, $"could not save the last known good config: {e.Message}; the next invalid config will have no fallback", ("file", LastGoodPath));
        }
    }
}
