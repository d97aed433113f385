using Appliance.Config;
using Appliance.Datapath.Runtime;
using Appliance.Datapath.Runtime.Reconcile;

namespace Appliance.Host.Control;

/// <summary>`reload` / SIGHUP / an edit of the file: re-reads the config file, validates it in full (the program
/// objects with the eBPF loader and verifier), asks the runtime for the plan from the running config to it
/// (<see cref="ApplianceRuntime.Plan"/>) and applies it (<see cref="ApplianceRuntime.Apply"/>; a failed step undoes
/// the others), then re-applies the LEDs when they changed. An invalid file, a config the running appliance cannot
/// take, or a failed step leaves the running config, with the located errors or each step in the answer.
/// <c>dryRun</c> answers with the plan and applies nothing.</summary>
public sealed class ConfigReload(string file, string? objectDirectory, ApplianceRuntime runtime, Action<LedSettings>? applyLeds = null)
{
    private readonly object _gate = new();

    public string File => file;

    public ControlResponse Apply(bool dryRun = false)
    {
        lock (_gate)
        {
            var loaded = ConfigLoader.LoadFile(file, new ConfigLoadOptions { ProgramObjects = FileExistenceInspector.Instance, ObjectDirectory = objectDirectory });
            if (!loaded.IsValid)
                return ControlResponse.Failure($"{file} is not valid, the running config stays:\n" + string.Join("\n", loaded.Errors));
            return ApplyConfig(loaded.Config!, dryRun);
        }
    }

    /// <summary>Plans and (unless <paramref name="dryRun"/>) applies <paramref name="next"/> (a validated config).</summary>
    public ControlResponse ApplyConfig(ApplianceConfig next, bool dryRun = false)
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
            string text = plan.Describe() + (ledsChanged ? (plan.IsEmpty ? "\n" : "\n") + "    LEDs re-applied" : "");
            if (plan.IsEmpty && ledsChanged) text = "    LEDs re-applied";
            if (dryRun) return ControlResponse.Success($"plan (dry run, nothing applied):\n{text}");
            try
            {
                runtime.Apply(plan);
            }
            catch (ReconcileException e)
            {
                return ControlResponse.Failure($"a step failed; everything done was undone:\n{e.Message}");
            }
            if (ledsChanged) applyLeds?.Invoke(next.Leds);
            if (plan.IsEmpty && !ledsChanged) return ControlResponse.Success("reloaded: no changes");
            return ControlResponse.Success($"reloaded: {plan.Steps.Count} step(s)\n{text}");
        }
    }
}
