namespace Appliance.Datapath.Xdp;

/// <summary>Where the steering program runs: in the driver (native) or on the skb path (generic).</summary>
public enum XdpAttachMode
{
    Native,
    Generic,
}

/// <summary>Which XDP mode to attach in.</summary>
public enum XdpModePreference
{
    /// <summary>Native when the driver supports it, else generic.</summary>
    Auto,
    Native,
    Generic,
}
