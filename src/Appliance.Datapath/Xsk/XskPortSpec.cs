namespace Appliance.Datapath.Xsk;

/// <summary>One interface queue the appliance forwards on.</summary>
public sealed record XskPortSpec(string InterfaceName, uint Queue = 0, ZeroCopyMode ZeroCopy = ZeroCopyMode.Auto);
