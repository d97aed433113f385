namespace Appliance.Datapath.Xsk;

/// <summary>The mode the kernel actually bound a socket in (read back with XDP_OPTIONS).</summary>
public enum XskBindMode
{
    Copy,
    ZeroCopy,
}
