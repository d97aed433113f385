namespace Appliance.Datapath.Engine;

/// <summary>The result of <see cref="ForwardingEngine.AccountFrames"/>: where all UMEM frames are, taken between two
/// batches. Leaked counts frames held by the worker outside a batch or missing from every place; Problems lists
/// every disagreement between the frame ledger, the free stack and the ring counters. The text (what `forward`
/// prints as its last RESULT line) starts with the verdict, clean or NOT CLEAN.</summary>
public sealed record FrameAccount(int Total, int Free, int InFill, int InApp, int InTx, int Leaked,
    long TransitionViolations, IReadOnlyList<string> Problems)
{
    public bool IsClean => Leaked == 0 && TransitionViolations == 0 && Problems.Count == 0;

    public override string ToString() =>
        $"frames {(IsClean ? "clean" : "NOT CLEAN")}: total={Total} free={Free} fill={InFill} app={InApp} tx={InTx} leaked={Leaked} violations={TransitionViolations}" +
        (Problems.Count == 0 ? "" : "; " + string.Join("; ", Problems));
}
