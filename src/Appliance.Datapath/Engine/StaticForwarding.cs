namespace Appliance.Datapath.Engine;

/// <summary>Static port-to-port forwarding: every frame from port i goes to <c>targets[i]</c> (-1: no target).
/// A pair's primary veth end is just another port, so pair-to-port forwarding is the same table.</summary>
public sealed class StaticForwarding : IFrameHandler
{
    private readonly int[] _targets;

    public StaticForwarding(int[] targets) => _targets = (int[])targets.Clone();

    /// <summary>Ports 0 and 1 forward to each other.</summary>
    public static StaticForwarding CrossConnect() => new([1, 0]);

    public FrameVerdict Decide(ref FrameView frame)
    {
        int p = frame.IngressPort;
        int t = (uint)p < (uint)_targets.Length ? _targets[p] : -1;
        return t >= 0 ? FrameVerdict.Forward(t) : FrameVerdict.Drop(DropReason.NoTarget);
    }
}
