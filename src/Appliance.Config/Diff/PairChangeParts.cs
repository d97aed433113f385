namespace Appliance.Config;

/// <summary>Which parts of a pair changed between two configs, from cheapest to dearest to apply.</summary>
[Flags]
public enum PairChangeParts
{
    None = 0,
    /// <summary>The primary side's chain (programs, order).</summary>
    PrimaryChain = 1 << 0,
    /// <summary>The peer side's chain.</summary>
    PeerChain = 1 << 1,
    /// <summary>A program in one of the chains changed (object, section or map contents) under the same name.</summary>
    Programs = 1 << 2,
    /// <summary>primary.policy or peer.policy (netkit can change these on a live pair).</summary>
    Policy = 1 << 3,
    /// <summary>primary.scrub or peer.scrub.</summary>
    Scrub = 1 << 4,
    /// <summary>The uplink port (classification moves to another port).</summary>
    Uplink = 1 << 5,
    /// <summary>Mode, tenant netns, tenant interface name, tenant MAC or primaryInterface: the pair is re-created
    /// (deleted and made again; only this pair).</summary>
    Interface = 1 << 6,
    /// <summary>tenant.addresses: added and removed on the live tenant interface.</summary>
    Addresses = 1 << 7,
    /// <summary>tenant.mtu: set on both ends of the live veth.</summary>
    Mtu = 1 << 8,
    /// <summary>headroom or tailroom: checked against the frames' room, nothing to rebuild.</summary>
    Room = 1 << 9,
    /// <summary>learnLimit: the uplink's classifier takes the new limit when the change is committed (MACs learned
    /// beyond a lower limit are forgotten and released).</summary>
    Learning = 1 << 10,
    /// <summary>tenant.serves (as a set: the order is no change): the pair's peer side takes it when the change is
    /// committed, from the next batch on.</summary>
    Services = 1 << 11,
}
