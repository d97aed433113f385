using Appliance.Interop;

namespace Appliance.Datapath.Links;

/// <summary>A provisioned pair: both ends as the kernel reports them after setup.</summary>
/// <param name="Primary">The appliance's end.</param>
/// <param name="Tenant">The tenant's end, in <see cref="PairLinkSpec.TenantNamespace"/>.</param>
/// <param name="PrimaryRxQueues">RX queues of the primary end (one AF_XDP socket per queue).</param>
/// <param name="NamespaceCreated">Whether the tenant namespace was created for this pair.</param>
public sealed record PairLinks(LinkInfo Primary, LinkInfo Tenant, int PrimaryRxQueues, bool NamespaceCreated)
{
    /// <summary>Sets up the kernel side of a pair, owned by <paramref name="owned"/> (deleted on its Dispose):
    /// namespace (created if asked), veth with the tenant end created directly in it under its final name,
    /// tenant MAC and MTU, TX checksum offload off on the tenant end (see
    /// <see cref="LinkEthtool.DisableTxChecksum"/>), both ends up (as <see cref="PairLinkSpec.TenantUp"/> and
    /// <see cref="PairLinkSpec.PrimaryUp"/> say). On failure nothing of the pair is left behind
    /// and the error says which step failed.</summary>
    public static PairLinks Provision(OwnedLinks owned, PairLinkSpec spec)
    {
        var root = owned.Links;
        bool created = spec.CreateNamespace ? owned.EnsureNamespace(spec.TenantNamespace) : RequireNamespace(owned, spec.TenantNamespace);
        owned.CreateVethPair(spec.PrimaryName, spec.TenantName, spec.TenantNamespace, spec.Mtu, spec.Queues);
        try
        {
            using var inside = new LinkManager(spec.TenantNamespace);
            if (spec.TenantMac is { } mac) inside.SetMac(spec.TenantName, mac);
            new LinkEthtool(inside).DisableTxChecksum(spec.TenantName);
            if (spec.TenantUp) inside.SetUp(spec.TenantName, true);
            if (spec.PrimaryUp) root.SetUp(spec.PrimaryName, true);
            return new PairLinks(root.Get(spec.PrimaryName), inside.Get(spec.TenantName),
                new LinkEthtool(root).RxQueueCount(spec.PrimaryName), created);
        }
        catch
        {
            try { root.Delete(spec.PrimaryName); } // the tenant end goes with it
            catch (PlatformException e) when (e.Errno == Errno.ENODEV) { }
            throw;
        }
    }

    private static bool RequireNamespace(OwnedLinks owned, string name)
    {
        NetworkNamespace.Open(name).Dispose(); // throws ENOENT naming it, with advice
        owned.WatchNamespace(name);
        return false;
    }
}
