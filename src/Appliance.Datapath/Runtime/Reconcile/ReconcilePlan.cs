using Appliance.Config;
using Appliance.Datapath.Programs;

namespace Appliance.Datapath.Runtime.Reconcile;

/// <summary>The ordered steps that turn the running config into a new one (<see cref="ApplianceRuntime.Plan"/>),
/// with the new program set already loaded and verified. Nothing is applied until
/// <see cref="ApplianceRuntime.Apply"/>. Order: claim new ports; set map contents; re-created pairs deleted; pairs
/// created; pairs changed (addresses, MTU, uplink, policy, scrub); chains swapped; programs swapped in; pairs
/// deleted; ports released; port settings (unclaimed, MAC, MTU).</summary>
public sealed class ReconcilePlan
{
    internal ReconcilePlan(ApplianceConfig running, ApplianceConfig next, ProgramSet programs, List<PlanStep> steps, List<string> notes)
    {
        Running = running;
        Next = next;
        _programs = programs;
        Steps = steps;
        Notes = notes;
    }

    public ApplianceConfig Running { get; }
    public ApplianceConfig Next { get; }
    private ProgramSet? _programs;

    /// <summary>The programs it loaded; gone once a discard or a failed apply gave them back (<see cref="Release"/>).</summary>
    internal ProgramSet Programs => _programs ?? throw new InvalidOperationException("this plan's programs were given back; plan again");
    /// <summary>Apply or Discard took it: what it loaded is given back by them, once.</summary>
    internal bool Taken { get; set; }

    /// <summary>A plan that will never run (discarded, or its apply failed and was undone) lets go of what it loaded,
    /// so its caller, who may hold it a while longer, does not hold the preallocated maps' arrays.</summary>
    internal void Release()
    {
        Taken = true;
        _programs = null;
    }
    public IReadOnlyList<PlanStep> Steps { get; }
    /// <summary>Things worth knowing that are not steps (e.g. which pair is re-created and why).</summary>
    public IReadOnlyList<string> Notes { get; }
    public bool IsEmpty => Steps.Count == 0;

    /// <summary>No step and nothing to note: the new config is the running one in every respect.</summary>
    public bool Unchanged => IsEmpty && Notes.Count == 0;

    /// <summary>The plan as `terraform plan` shows one: a line per step, then the notes (also without a step: a change
    /// of a setting read at start is noted for the next start).</summary>
    public string Describe()
    {
        if (Unchanged) return "no changes";
        var lines = Steps.Select((s, i) => $"{i + 1,3}. {s}").ToList();
        lines.AddRange(Notes.Select(n => "note: " + n));
        return string.Join('\n', lines);
    }
}

/// <summary>A step failed while applying a plan: the steps done before it were undone, the running config stays.
/// <see cref="Exception.Message"/> lists each step and how it ended; <see cref="NotRunning"/> what an undo that failed
/// left out (empty when every undo worked).</summary>
public sealed class ReconcileException(string message, Exception inner, IReadOnlyList<NotRunningPart> notRunning) : Exception(message, inner)
{
    public IReadOnlyList<NotRunningPart> NotRunning { get; } = notRunning;
}
