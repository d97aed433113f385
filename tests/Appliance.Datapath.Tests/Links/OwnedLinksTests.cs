using Appliance.Datapath.Links;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Datapath.Tests.Links;

[Collection(KernelCollection.Name)]
public sealed class OwnedLinksTests
{
    [PrivilegedFact]
    public void Everything_created_is_deleted_even_when_the_work_throws()
    {
        using var scratch = new ScratchState();
        string ns = scratch.Namespace("owned");
        string a = scratch.Interface(), b = NetNamespace.UniqueInterface("mapp");
        using var root = new LinkManager();

        void FailingWork()
        {
            using var owned = new OwnedLinks(root);
            owned.CreateNamespace(ns);
            owned.CreateVethPair(a, b, peerNamespace: ns);
            Assert.NotNull(IpJson.Link(a));
            Assert.True(IpJson.NamespaceExists(ns));
            Assert.Equal(owned.Tag.ToString(), IpJson.RequireLink(a).GetProperty("ifalias").GetString());
            throw new InvalidOperationException("the test body failed");
        }
        var thrown = Assert.Throws<InvalidOperationException>(FailingWork);
        Assert.Equal("the test body failed", thrown.Message);
        Assert.Null(IpJson.Link(a));
        Assert.False(IpJson.NamespaceExists(ns));
    }

    [PrivilegedFact]
    public void Renamed_links_are_still_found_and_foreign_links_are_left_alone()
    {
        using var scratch = new ScratchState();
        string a = scratch.Interface(), b = scratch.Interface(), renamed = scratch.Interface();
        string foreign = scratch.Interface(), foreignPeer = scratch.Interface();
        string otherOwned = scratch.Interface(), otherPeer = scratch.Interface();
        using var root = new LinkManager();
        root.CreateVethPair(foreign, foreignPeer); // not ours

        using var other = new OwnedLinks(root);    // another registry of this same process
        other.CreateVethPair(otherOwned, otherPeer);

        var owned = new OwnedLinks(root);
        owned.CreateVethPair(a, b);
        Shell.Check("ip", "link", "set", a, "name", renamed);
        owned.Dispose();

        Assert.Null(IpJson.Link(renamed));
        Assert.Null(IpJson.Link(b));
        Assert.NotNull(IpJson.Link(foreign));
        Assert.NotNull(IpJson.Link(otherOwned));
        Assert.Throws<ObjectDisposedException>(() => owned.CreateVethPair(a, b));
    }

    [PrivilegedFact]
    public void Tagged_links_in_a_watched_tenant_namespace_are_deleted()
    {
        using var scratch = new ScratchState();
        string ns = scratch.Namespace("tenant");
        string a = NetNamespace.UniqueInterface("mapp"), b = NetNamespace.UniqueInterface("mapp");
        NetworkNamespace.Create(ns); // the tenant's namespace: not ours to delete
        using var root = new LinkManager();
        using var inside = new LinkManager(ns);
        using (var owned = new OwnedLinks(inside))
        {
            owned.CreateVethPair(a, b);
        }
        Assert.Null(IpJson.Link(a, ns));
        Assert.Null(IpJson.Link(b, ns));
        Assert.True(IpJson.NamespaceExists(ns));
    }

    [PrivilegedFact]
    public void EnsureNamespace_creates_only_what_is_missing_and_deletes_only_what_it_created()
    {
        using var scratch = new ScratchState();
        string existing = scratch.Namespace("exists"), missing = scratch.Namespace("missing");
        NetworkNamespace.Create(existing);
        using var root = new LinkManager();
        using (var owned = new OwnedLinks(root))
        {
            Assert.False(owned.EnsureNamespace(existing));
            Assert.True(owned.EnsureNamespace(missing));
            Assert.True(IpJson.NamespaceExists(missing));
            Assert.Equal([missing], owned.CreatedNamespaces);
        }
        Assert.True(IpJson.NamespaceExists(existing));
        Assert.False(IpJson.NamespaceExists(missing));
    }
}
