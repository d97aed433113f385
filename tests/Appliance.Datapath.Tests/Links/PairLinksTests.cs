using System.Net.NetworkInformation;
using Appliance.Datapath.Links;
using Appliance.Interop;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Datapath.Tests.Links;

[Collection(KernelCollection.Name)]
public sealed class PairLinksTests
{
    [PrivilegedFact]
    public void Provisioned_pair_is_configured_on_both_ends_and_removed_with_its_registry()
    {
        using var scratch = new ScratchState();
        string ns = scratch.Namespace("pair");
        string primary = scratch.Interface(), tenant = NetNamespace.UniqueInterface("mapp");
        using var root = new LinkManager();
        PairLinks pair;
        using (var owned = new OwnedLinks(root))
        {
            pair = PairLinks.Provision(owned, new PairLinkSpec(primary, ns, tenant)
            {
                CreateNamespace = true,
                TenantMac = PhysicalAddress.Parse("02-00-00-00-07-01"),
                Mtu = 1450,
            });
            Assert.True(pair.NamespaceCreated);
            Assert.Equal(1, pair.PrimaryRxQueues);
            Assert.Equal(pair.Tenant.Index, pair.Primary.PeerIndex);

            var t = IpJson.RequireLink(tenant, ns);
            Assert.Equal("02:00:00:00:07:01", t.GetProperty("address").GetString());
            Assert.Equal(1450, t.GetProperty("mtu").GetInt32());
            Assert.Contains("UP", IpJson.Flags(t));
            Assert.Contains("tx-checksumming: off", Shell.Check("ip", "netns", "exec", ns, "ethtool", "-k", tenant));
            var p = IpJson.RequireLink(primary);
            Assert.Contains("UP", IpJson.Flags(p));
            Assert.Equal(1450, p.GetProperty("mtu").GetInt32());
            Assert.True(Eventually.True(() => root.Get(primary).Carrier, 10_000), "both ends up: carrier on the primary");
        }
        Assert.Null(IpJson.Link(primary));
        Assert.False(IpJson.NamespaceExists(ns));
    }

    [PrivilegedFact]
    public void A_failed_step_leaves_nothing_behind_and_names_the_problem()
    {
        using var scratch = new ScratchState();
        string ns = scratch.Namespace("pairfail");
        string primary = scratch.Interface(), tenant = NetNamespace.UniqueInterface("mapp");
        NetworkNamespace.Create(ns);
        using var root = new LinkManager();
        using var owned = new OwnedLinks(root);

        // A missing namespace without CreateNamespace is refused before anything is created.
        string absent = NetNamespace.UniqueName("absent");
        var missing = Assert.Throws<PlatformException>(() => PairLinks.Provision(owned, new PairLinkSpec(primary, absent, tenant)));
        Assert.Equal(Errno.ENOENT, missing.Errno);
        Assert.Contains(absent, missing.Message);
        Assert.Null(IpJson.Link(primary));

        // A multicast MAC is refused by the kernel after the veth exists: the veth is rolled back.
        var bad = Assert.Throws<PlatformException>(() => PairLinks.Provision(owned,
            new PairLinkSpec(primary, ns, tenant) { TenantMac = PhysicalAddress.Parse("01-00-5E-00-00-01") }));
        Assert.Equal(Appliance.Errno.EADDRNOTAVAIL, bad.Errno);
        Assert.Contains(tenant, bad.Message);
        Assert.Null(IpJson.Link(primary));
        Assert.Null(IpJson.Link(tenant, ns));
        Assert.True(IpJson.NamespaceExists(ns)); // not ours: left alone
    }
}
