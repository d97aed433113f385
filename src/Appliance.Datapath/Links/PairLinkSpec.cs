using System.Net.NetworkInformation;

namespace Appliance.Datapath.Links;

/// <summary>The kernel side of one meta pair: a veth whose primary end stays with the appliance and whose
/// tenant end lives in the tenant's namespace under the configured name.</summary>
/// <param name="PrimaryName">The appliance's end, in the appliance's namespace (XDP + AF_XDP go here).</param>
/// <param name="TenantNamespace">The tenant's named network namespace.</param>
/// <param name="TenantName">The tenant's interface name inside <paramref name="TenantNamespace"/>.</param>
public sealed record PairLinkSpec(string PrimaryName, string TenantNamespace, string TenantName)
{
    /// <summary>Create the namespace when it does not exist (it is then owned and deleted on cleanup);
    /// otherwise a missing namespace is an error.</summary>
    public bool CreateNamespace { get; init; }

    /// <summary>The tenant interface's MAC; null keeps the random one the kernel picked.</summary>
    public PhysicalAddress? TenantMac { get; init; }

    /// <summary>MTU of both ends; null keeps the default (1500).</summary>
    public int? Mtu { get; init; }

    /// <summary>RX and TX queues of both ends (numrxqueues/numtxqueues): one per forwarding worker, so the tenant's
    /// flows spread over the workers (the veth picks the queue by flow hash). Null: the kernel's default (1).</summary>
    public int? Queues { get; init; }

    /// <summary>Bring the tenant end up.</summary>
    public bool TenantUp { get; init; } = true;

    /// <summary>Bring the primary end up. The appliance leaves it down until its AF_XDP sockets are in place: a veth
    /// forwards nothing to an end that is down, while an end that is up without them hands the tenant's frames to the
    /// board's own stack, which answers ARP for the board's addresses on any interface and takes packets to them.</summary>
    public bool PrimaryUp { get; init; } = true;
}
