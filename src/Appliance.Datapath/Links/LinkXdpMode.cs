namespace Appliance.Datapath.Links;

/// <summary>How XDP is attached to an interface (IFLA_XDP_ATTACHED, XDP_ATTACHED_*).</summary>
public enum LinkXdpMode : byte
{
    None = 0,
    /// <summary>Native (driver) mode.</summary>
    Driver = 1,
    /// <summary>Generic (SKB) mode.</summary>
    Generic = 2,
    /// <summary>Offloaded to the NIC.</summary>
    Hardware = 3,
    /// <summary>More than one mode at once (e.g. a driver and a hardware program).</summary>
    Multi = 4,
}
