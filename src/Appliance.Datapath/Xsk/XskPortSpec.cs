namespace Appliance.Datapath.Xsk;

/// <summary>One interface the appliance forwards on, from queue <paramref name="Queue"/>. <paramref name="AttachSteering"/>
/// false: the port set attaches no XDP program (the socket receives nothing until the caller attaches its own
/// steering and registers the sockets in it); true (default): the set's redirect-everything <see cref="Xdp.XdpSteering"/>.</summary>
public sealed record XskPortSpec(string InterfaceName, uint Queue = 0, ZeroCopyMode ZeroCopy = ZeroCopyMode.Auto,
    bool AttachSteering = true)
{
    /// <summary>How many queues (sockets, one per worker from worker 0 on) to open: at most the set's workers; null:
    /// one per worker. An interface with fewer RX queues than workers gets one socket per queue, and the other workers
    /// hand their frames for it to the socket owners (<see cref="Engine.HandOffRing"/>).</summary>
    public int? Queues { get; init; }
}
