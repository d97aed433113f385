namespace Appliance.Datapath.Engine;

/// <summary>What to do with one frame.</summary>
public enum VerdictKind : byte
{
    Forward,
    Drop,
    Kernel,
}

/// <summary>A decision's answer: forward to a port, drop for a reason, or hand to the kernel stack.</summary>
public readonly struct FrameVerdict
{
    public VerdictKind Kind { get; }
    /// <summary>Target port index for <see cref="VerdictKind.Forward"/>.</summary>
    public int TargetPort { get; }
    public DropReason Reason { get; }

    private FrameVerdict(VerdictKind kind, int target, DropReason reason)
    {
        Kind = kind;
        TargetPort = target;
        Reason = reason;
    }

    public static FrameVerdict Forward(int targetPort) => new(VerdictKind.Forward, targetPort, default);
    public static FrameVerdict Drop(DropReason reason) => new(VerdictKind.Drop, -1, reason);
    public static FrameVerdict Kernel => new(VerdictKind.Kernel, -1, DropReason.NoKernelPath);
}
