using Appliance.Datapath.Pairs;
using Appliance.Datapath.Runtime;

namespace Appliance.Host.Control;

/// <summary>The control socket's verbs for a running appliance: <c>status</c>, <c>stats</c> (text or JSON),
/// <c>pairs</c> (list, or attach/replace/detach a chain program), <c>programs</c>, <c>maps</c>. Handlers run on
/// the control thread; chain changes publish atomically, map edits go through the maps' own locking.</summary>
public static class ApplianceControl
{
    /// <param name="hostStatus">Lines the host adds to `status` (a change waiting for confirmation, faults).</param>
    /// <param name="metrics">`stats --prometheus` answers its text; without it that option is refused.</param>
    public static void Register(ControlServer server, ApplianceRuntime runtime, Func<string>? hostStatus = null, Metrics.PrometheusExposition? metrics = null)
    {
        var report = new RuntimeReport(runtime);
        var chains = new ChainEditor(runtime);
        server.Register("status", r => ControlResponse.Success(r.Json ? report.StatsJson() : (hostStatus?.Invoke() ?? "") + report.Status()));
        server.Register("stats", r => Guard(() =>
        {
            var a = ControlArguments.Parse(Commands.ControlVerbs.Stats, r.Args);
            if (a.Positionals.Count > 0) throw new ArgumentException($"unexpected arguments '{string.Join(' ', a.Positionals)}' (SECONDS goes with --watch)");
            if (a.Has("--per-worker") && !r.Json) return report.PerWorker();
            if (!a.Has("--prometheus")) return r.Json ? report.StatsJson() : report.Stats();
            return metrics?.Render() ?? throw new InvalidOperationException("this appliance has no metrics exposition");
        }));
        server.Register("programs", _ => ControlResponse.Success(report.Programs()));
        server.Register("pairs", r => r.Args.Length == 0 ? ControlResponse.Success(report.Pairs()) : Guard(() => chains.Apply(r.Args)));
        server.Register("maps", r => Guard(() => MapEditor.RunOnRunning(runtime, r.Args, r.Json)));
        server.Register(ApplianceNames.Verb, r => Guard(() => ApplianceNames.List(runtime, r.Args)));
    }

    /// <summary>Turns expected refusals (usage, unknown names, bpf_mprog errors) into failure answers.</summary>
    private static ControlResponse Guard(Func<string> action)
    {
        try
        {
            return ControlResponse.Success(action());
        }
        catch (ChainException e)
        {
            return ControlResponse.Failure($"{ErrnoOf(e.Error)}: {e.Message}");
        }
        catch (Exception e) when (e is ArgumentException or KeyNotFoundException or InvalidOperationException)
        {
            return ControlResponse.Failure(e.Message);
        }
    }

    private static string ErrnoOf(ChainError error) => error switch
    {
        ChainError.Full => "ERANGE",
        ChainError.NotFound => "ENOENT",
        ChainError.AlreadyAttached => "EEXIST",
        ChainError.StaleRevision => "ESTALE",
        _ => error.ToString(),
    };
}
