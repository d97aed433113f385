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
    /// <summary>The uplink port (classification moves to another port) or the learn limit (the port's classifier is rebuilt).</summary>
    Uplink = 1 << 5,
    /// <summary>Mode, tenant (netns, interface, MAC, MTU, addresses), headroom or tailroom: the interfaces are rebuilt.</summary>
    Interface = 1 << 6,

    /// <summary>Parts that swap atomically between two batches without touching interfaces.</summary>
    ChainParts = PrimaryChain | PeerChain | Programs,
}
