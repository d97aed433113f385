namespace Appliance.Datapath.Engine;

/// <summary>Why the engine dropped a received frame (counted on the ingress port).</summary>
public enum DropReason
{
    /// <summary>The target's TX ring had no free slot.</summary>
    RingFull,
    /// <summary>Shorter than an Ethernet header (14 B) or longer than a frame.</summary>
    InvalidFrame,
    /// <summary>The decision named no port, or a port that does not exist.</summary>
    NoTarget,
    /// <summary>The target interface is gone (deleted, its namespace deleted).</summary>
    TargetDown,
    /// <summary>Crossing to another UMEM found no free frame there.</summary>
    NoFreeFrame,
    /// <summary>A pair side dropped it: its policy, a program's verdict, a redirect it could not serve, an L3 tenant's
    /// packet the board's tables do not route (the side's counters say which,
    /// <see cref="Forwarding.PairDropReasons.OnPort"/>); or a port's frame no tenant claims.</summary>
    Policy,
    /// <summary>The decision asked for the kernel stack; user-space re-injection does not exist yet, so traffic
    /// meant for the kernel must be passed by the XDP program instead.</summary>
    NoKernelPath,
    /// <summary>The decision threw (a bug, never a tenant's fault): that one frame is dropped and counted, the
    /// worker goes on; frames of a batch interrupted by a worker fault are counted here too.</summary>
    InternalError,
    /// <summary>A tenant sent a frame whose source MAC is a group address or all zeros (invalid on Ethernet;
    /// a bridge drops these too) or one it may not use (the board's, another tenant's, a new one past its learn
    /// limit: the refused learns, counted on the pair by reason); or a packet from a port for an L3 tenant has a martian source or one of that
    /// port's L3 tenants' addresses (spoofed: they live behind the appliance); or its pair's peer side passed a frame
    /// whose source, ARP or neighbour discovery claims what is not the tenant's (counted there as invalidSource too).</summary>
    InvalidSource,
    /// <summary>An L3 pair's packet, from a port or from its tenant, whose TTL / hop limit ran out at the appliance (a
    /// forwarding hop).</summary>
    TtlExpired,
    /// <summary>An L2 tenant's peer side passed a router's or DHCP server's message the tenant does not serve (counted
    /// there as rogueService too).</summary>
    RogueService,
}
