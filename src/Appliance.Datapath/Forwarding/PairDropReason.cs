using Appliance.Datapath.Engine;

namespace Appliance.Datapath.Forwarding;

/// <summary>Why a pair side dropped a frame (netkit counts every one of them as tx_dropped on the sending side).</summary>
public enum PairDropReason
{
    /// <summary>No program attached and the side's policy is drop ("blackhole").</summary>
    Policy,
    /// <summary>A program returned NETKIT_DROP (2).</summary>
    Verdict,
    /// <summary>A program returned a value netkit does not know (netkit drops these; tcx would treat them as NEXT).</summary>
    UnknownVerdict,
    /// <summary>The pair has no carrier (one of its ends is down).</summary>
    Carrier,
    /// <summary>REDIRECT to an ifindex that is neither a port nor a pair's primary end, or without bpf_redirect.</summary>
    NoTarget,
    /// <summary>REDIRECT with BPF_F_INGRESS: the appliance has no ingress path of a device to inject into.</summary>
    IngressRedirect,
    /// <summary>bpf_redirect_peer outside tc ingress (from a tenant's frame, or after a redirect): the kernel drops it
    /// there too (netkit programs never run at tc ingress).</summary>
    PeerNotAtIngress,
    /// <summary>More than <see cref="NetkitPipeline.MaxRedirects"/> redirects for one frame (a redirect loop).</summary>
    RedirectLoop,
    /// <summary>The program faulted (out-of-bounds access, instruction budget, ...): counted and dropped.</summary>
    ProgramFault,
    /// <summary>The frame's bytes could not carry the program's changes (no room for a VLAN tag, runt frame).</summary>
    InvalidFrame,
    /// <summary>L3: the board's routing table has no unicast route out of one of the appliance's ports for the
    /// destination (no route, blackhole, unreachable, prohibit, the board's own address), or the packet is not one a
    /// router forwards (not IPv4/IPv6, link-local, multicast).</summary>
    NoRoute,
    /// <summary>L3: the next hop's MAC is not known yet; the kernel was asked to resolve it (the frame is not held).</summary>
    NoNeighbour,
    /// <summary>L3: TTL / hop limit ran out here.</summary>
    TtlExpired,
    /// <summary>L3: the destination is another L3 tenant of the uplink; tenants reach each other only through an explicit redirect.</summary>
    Isolation,
    /// <summary>L3: the packet's source is not the tenant's to send from: outside the pair's own prefixes (another
    /// tenant's address, the board's, anyone's) or never routable (IPv4 0/8, 127/8, 169.254/16, multicast, class E,
    /// limited broadcast; IPv6 ::, ::1, multicast, link-local). L2: a packet from, or an ARP or neighbour discovery
    /// message claiming, an address that is the board's or another tenant's, or one naming a MAC the tenant may not send from
    /// (<see cref="AddressGuard"/>).</summary>
    InvalidSource,
    /// <summary>A VLAN-tagged frame (802.1Q or 802.1ad). L3: pairs route untagged IPv4/IPv6 only; no VLAN is configured
    /// for them (a program that wants a tag on the wire pushes it and redirects). L2: a frame the tenant tagged itself,
    /// from a tenant whose <c>tenant.serves</c> does not name "vlans" (<see cref="TenantGuard"/>).</summary>
    VlanTagged,
    /// <summary>L2: a message only a router or a DHCP server (or relay agent) sends — a router advertisement or redirect,
    /// a DHCP answer — from a tenant whose <c>tenant.serves</c> does not name that service (<see cref="ServiceGuard"/>).</summary>
    RogueService,
    /// <summary>A group frame's copy the flooder could not hand to the interface its side passed it to without waiting
    /// (<see cref="GroupFrameFlooder"/>): the interface's queue still holds the copies sent before — a qdisc that does not
    /// drain, a stopped queue, a slow tenant — so its send buffer is full (EAGAIN), or the qdisc dropped it (ENOBUFS).
    /// That tenant loses the copy; the flooder goes on with the others at once.</summary>
    QueueFull,
    /// <summary>A group frame's copy the kernel refused otherwise (the interface down or gone, the frame over its MTU:
    /// the errno is in the log).</summary>
    SendFailed,
}

/// <summary>How a pair side's drop reads on the port the frame came in by (the engine's <see cref="DropReason"/>):
/// what the tenant checks after the chain found (a source or claim not the tenant's, a rogue router or DHCP server)
/// and an L3 packet that expired say so there too; everything else a side drops is <see cref="DropReason.Policy"/>
/// on the port, its reason on the side. The one mapping: the handler's verdicts, and so the port counters, stats,
/// metrics and replay, take it from here.</summary>
public static class PairDropReasons
{
    public static DropReason OnPort(this PairDropReason reason) => reason switch
    {
        PairDropReason.InvalidSource => DropReason.InvalidSource,
        PairDropReason.RogueService => DropReason.RogueService,
        PairDropReason.TtlExpired => DropReason.TtlExpired,
        _ => DropReason.Policy,
    };
}
