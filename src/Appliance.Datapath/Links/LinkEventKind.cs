namespace Appliance.Datapath.Links;

/// <summary>What changed on a watched interface.</summary>
public enum LinkEventKind
{
    /// <summary>The interface appeared (created, or moved into the watched namespace).</summary>
    Added,
    /// <summary>Set administratively up (IFF_UP on).</summary>
    AdminUp,
    /// <summary>Set administratively down.</summary>
    AdminDown,
    /// <summary>Carrier came on (for a veth: both ends are up).</summary>
    CarrierUp,
    /// <summary>Carrier went off (for a veth: the peer went down or away).</summary>
    CarrierDown,
    /// <summary>Renamed; <see cref="LinkEvent.PreviousName"/> holds the old name.</summary>
    Renamed,
    /// <summary>Another attribute changed (MTU, MAC, promiscuity, XDP...).</summary>
    Changed,
    /// <summary>Deleted, or moved out of the watched namespace.</summary>
    Deleted,
}
