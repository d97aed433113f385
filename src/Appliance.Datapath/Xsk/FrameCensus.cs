namespace Appliance.Datapath.Xsk;

/// <summary>A count of a UMEM's frames by <see cref="FrameState"/> and owning port, taken from the frame ledger,
/// plus what was wrong with the free stack (duplicates, entries not marked free).</summary>
public sealed class FrameCensus
{
    public required int Total { get; init; }
    public required int Free { get; init; }
    public required int FreeStackDepth { get; init; }
    public required int FreeStackProblems { get; init; }
    /// <summary>[owner, state] counts; owner = the port index given when the frame moved.</summary>
    public required int[,] ByOwner { get; init; }
    public required long TransitionViolations { get; init; }
    public required string? FirstViolation { get; init; }

    public int Count(FrameState state)
    {
        int n = 0;
        for (int o = 0; o < ByOwner.GetLength(0); o++) n += ByOwner[o, (int)state];
        return n;
    }

    public int Count(int owner, FrameState state) => ByOwner[owner, (int)state];
}
