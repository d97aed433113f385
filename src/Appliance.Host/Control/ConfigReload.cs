using Appliance.Config;
using Appliance.Datapath.Runtime;
using Appliance.Datapath.Runtime.Reconcile;
using Appliance.Datapath.Programs;

namespace Appliance.Host.Control;

/// <summary>`reload` / SIGHUP / an edit of the file: re-reads the config file, validates it in full (the program
/// objects with the eBPF loader and verifier, <see cref="ProgramObjectInspector"/>), asks the runtime for the plan
/// from the running config to it (<see cref="ApplianceRuntime.Plan"/>) and applies it
/// (<see cref="ApplianceRuntime.Apply"/>; a failed step undoes the others), then re-applies the LEDs when they
/// changed. An invalid file, a config the running appliance cannot take, or a failed step leaves the running config,
/// with the located errors or each step in the answer. <c>dryRun</c> answers with the plan and applies nothing.
/// <see cref="RunningBytes"/> is the file as it was when the running config was read (what a rollback restores).</summary>
public sealed class ConfigReload(string file, string? objectDirectory, ApplianceRuntime runtime, byte[]? runningBytes,
    Action<LedSettings>? applyLeds = null)
{
    private readonly object _gate = new();

    public string File => file;
    public ApplianceConfig Running => runtime.Config;

    /// <summary>Counts the reloads that changed something (a step or the LEDs): a reload that leaves it as it was
    /// changed nothing (nothing to confirm).</summary>
    public long Generation { get; private set; }

    /// <summary>The file's bytes behind the running config (null when unknown).</summary>
    public byte[]? RunningBytes { get; private set; } = runningBytes;

    /// <summary>Every object file the running config names (what an edit of must reload too).</summary>
    public IEnumerable<string> ObjectFiles =>
        runtime.Config.Programs.Select(p => ProgramObjectPaths.Resolve(p, Path.GetDirectoryName(Path.GetFullPath(file)) ?? ".", objectDirectory)).Distinct();

    public ControlResponse Apply(bool dryRun = false)
    {
        lock (_gate)
        {
            var options = new ConfigLoadOptions { ProgramObjects = ProgramObjectInspector.Instance, ObjectDirectory = objectDirectory };
            var loaded = ConfigLoader.LoadFile(file, options);
            if (!loaded.IsValid)
                return ControlResponse.Failure($"{file} is not valid, the running config stays:\n" + string.Join("\n", loaded.Errors));
            return ApplyConfig(loaded.Config!, loaded.Bytes, dryRun);
        }
    }

    /// <summary>Plans and (unless <paramref name="dryRun"/>) applies <paramref name="next"/> (a validated config whose
    /// file held <paramref name="bytes"/>).</summary>
    public ControlResponse ApplyConfig(ApplianceConfig next, byte[]? bytes, bool dryRun = false)
    {
        lock (_gate)
        {
            ReconcilePlan plan;
            try
            {
                plan = runtime.Plan(next);
            }
            catch (RuntimeSetupException e)
            {
                return ControlResponse.Failure($"{file} cannot be applied, the running config stays: {e.Message}");
            }
            var diff = ConfigDiff.Compute(plan.Running, next);
            bool ledsChanged = diff.LedStateChanged || !diff.Leds.IsEmpty;
            var lines = plan.Unchanged ? [] : new List<string> { plan.Describe() };
            if (ledsChanged) lines.Add("    LEDs re-applied");
            string text = string.Join('\n', lines);
            if (dryRun)
            {
                runtime.Discard(plan); // the maps and code it loaded go now, not at some later GC
                return ControlResponse.Success($"plan (dry run, nothing applied):\n{(lines.Count == 0 ? "no changes" : text)}");
            }
            try
            {
                runtime.Apply(plan);
            }
            catch (ReconcileException e)
            {
                return ControlResponse.Failure(e.NotRunning.Count == 0 ? $"a step failed; everything done was undone:\n{e.Message}"
                    : $"a step failed; {string.Join(", ", e.NotRunning.Select(p => p.Target))} not running (a failed undo left it out: " +
                      $"mend what the error says, then reload to make it again, or restart):\n{e.Message}");
            }
            RunningBytes = bytes ?? RunningBytes;
            if (!plan.IsEmpty || ledsChanged) Generation++;
            if (ledsChanged) applyLeds?.Invoke(next.Leds);
            if (lines.Count == 0) return ControlResponse.Success("reloaded: no changes");
            // A part a reload could not make again stays not running, and says why (the rest of the reload applied).
            var notRunning = runtime.NotRunning.Select(p => $"NOT RUNNING: {p}");
            return ControlResponse.Success(string.Join('\n', [$"reloaded: {plan.Steps.Count} step(s)", text, .. notRunning]));
        }
    }
}
