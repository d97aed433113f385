namespace Appliance.Datapath.Runtime.Reconcile;

/// <summary>What a step does, for the plan's text (`reload --dry-run`, `validate --diff`) and the log.</summary>
public enum PlanAction
{
    Create,
    Change,
    Delete,
    Load,
    Replace,
    Unload,
    SetMap,
    Swap,
    Claim,
    Release,
}

/// <summary>One small step of a reconcile plan: what it does (for people) and, when applied, how to do it and how
/// to undo it. Steps are applied in plan order; when one fails, the ones done are undone newest first.</summary>
public sealed class PlanStep(PlanAction action, string target, string detail, Action apply, Action undo)
{
    public PlanAction Action { get; } = action;
    /// <summary>"pair tenant-b", "program count", "port eth1", "map count/hits", "chain tenant-a/peer".</summary>
    public string Target { get; } = target;
    public string Detail { get; } = detail;
    internal Action Apply { get; private set; } = apply;
    internal Action Undo { get; private set; } = undo;

    /// <summary>Makes again a pair or port of the running config that is not running (<see cref="ApplianceRuntime.NotRunning"/>):
    /// if it fails, the part stays not running, with this failure as the reason, and the plan's other steps go on — a
    /// part whose cause stays (its name taken, its queue held) does not hold back every other tenant's reload.</summary>
    public bool MakesAgain { get; internal set; }

    /// <summary>Once its plan is applied or refused: the step lets go of what its actions hold (the running programs
    /// of before, for an undo), so what the reload dropped can become garbage. It cannot run again.</summary>
    internal void Spend() => Apply = Undo = static () => throw new InvalidOperationException("this plan step was applied already");

    public override string ToString() =>
        $"{Action.ToString().ToLowerInvariant(),-7} {Target}{(Detail.Length > 0 ? ": " + Detail : "")}";
}
