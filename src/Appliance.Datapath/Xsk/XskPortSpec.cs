namespace Appliance.Datapath.Xsk;

/// <summary>One interface queue the appliance forwards on. <paramref name="AttachSteering"/> false: the port set
/// attaches no XDP program (the socket receives nothing until the caller attaches its own steering and registers
/// the socket in it); true (default): the set's redirect-everything <see cref="Xdp.XdpSteering"/>.</summary>
public sealed record XskPortSpec(string InterfaceName, uint Queue = 0, ZeroCopyMode ZeroCopy = ZeroCopyMode.Auto,
    bool AttachSteering = true);
