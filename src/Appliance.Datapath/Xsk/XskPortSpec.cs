namespace Appliance.Datapath.Xsk;

/// <summary>One interface the appliance forwards on, from queue <paramref name="Queue"/>. <paramref name="AttachSteering"/>
/// false: the port set attaches no XDP program (the socket receives nothing until the caller attaches its own
/// steering and registers the sockets in it); true (default): the set's redirect-everything <see cref="Xdp.XdpSteering"/>.</summary>
public sealed record XskPortSpec(string InterfaceName, uint Queue = 0, ZeroCopyMode ZeroCopy = ZeroCopyMode.Auto,
    bool AttachSteering = true)
{
    /// <summary>How many queues (sockets) to open, queue q for worker q mod N; null: one per worker. An interface with
    /// fewer RX queues than workers gets one socket per queue and the other workers hand their frames for it to the
    /// socket owners (<see cref="Engine.HandOffRing"/>); one with more gives some workers several of its queues.</summary>
    public int? Queues { get; init; }
}
