using System.Net.NetworkInformation;
using Appliance.Datapath.Links;
using Appliance.Interop;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Datapath.Tests.Links;

[Collection(KernelCollection.Name)]
public sealed class LinkManagerTests
{
    /// <summary>A link dump read while links come and go: the kernel marks it interrupted (NLM_F_DUMP_INTR, the
    /// namespace's link list changed between two parts of it), and the list is taken again, so every interface that was
    /// there all along is in every answer. 300 interfaces make each dump several parts; a shell loop adds and deletes a
    /// veth pair meanwhile. Fails when the interruption flag is ignored (no dump restarted).</summary>
    [PrivilegedFact]
    public void A_link_dump_interrupted_by_changes_is_taken_again_and_complete()
    {
        using var ns = new NetNamespace("dumpintr");
        var batchFile = Path.Combine(Path.GetTempPath(), ns.Name + ".batch");
        File.WriteAllLines(batchFile, Enumerable.Range(0, 150).Select(i => $"link add s{i} type veth peer name t{i}"));
        ns.Exec("ip", "-batch", batchFile);
        File.Delete(batchFile);
        using var inside = new LinkManager(ns.Name);
        var stable = inside.List().Select(l => l.Name).ToHashSet();
        Assert.True(stable.Count >= 301, $"{stable.Count} links"); // lo and the 300 veth ends

        using var churn = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("ip",
            ["netns", "exec", ns.Name, "sh", "-c", "while :; do ip link add c0 type veth peer name c1; ip link del c0; done"])
        { RedirectStandardError = true, RedirectStandardOutput = true })!;
        try
        {
            long restarted = NetlinkSocket.DumpsRestarted;
            var deadline = DateTime.UtcNow.AddSeconds(20);
            int dumps = 0;
            while ((NetlinkSocket.DumpsRestarted - restarted < 3 || dumps < 20) && DateTime.UtcNow < deadline)
            {
                var names = inside.List().Select(l => l.Name).ToHashSet();
                Assert.Subset(names, stable);
                dumps++;
            }
            Assert.True(NetlinkSocket.DumpsRestarted - restarted >= 3,
                $"{NetlinkSocket.DumpsRestarted - restarted} interrupted dumps taken again in {dumps}");
        }
        finally
        {
            churn.Kill(entireProcessTree: true);
            churn.WaitForExit();
        }
    }

    [PrivilegedFact]
    public void Veth_pair_with_its_peer_in_a_namespace_configured_is_seen_by_iproute2()
    {
        using var scratch = new ScratchState();
        string ns = scratch.Namespace("links");
        string primary = scratch.Interface(), tenant = NetNamespace.UniqueInterface("mapp");

        NetworkNamespace.Create(ns);
        Assert.True(IpJson.NamespaceExists(ns), "ip netns list should show the namespace we created");

        using var root = new LinkManager();
        root.CreateVethPair(primary, tenant, peerNamespace: ns);
        var created = root.Get(primary);
        Assert.Equal("veth", created.Kind);
        Assert.Equal(primary, IpJson.RequireLink(primary).GetProperty("ifname").GetString());
        Assert.Null(IpJson.Link(tenant));
        Assert.NotNull(IpJson.Link(tenant, ns));

        using var inside = new LinkManager(ns);
        Assert.Equal(inside.Get(tenant).Index, created.PeerIndex);
        var mac = PhysicalAddress.Parse("02-AA-BB-CC-DD-01");
        inside.SetMac(tenant, mac);
        inside.SetMtu(tenant, 1400);
        inside.SetUp(tenant, true);

        var seen = IpJson.RequireLink(tenant, ns);
        Assert.Equal("02:aa:bb:cc:dd:01", seen.GetProperty("address").GetString());
        Assert.Equal(1400, seen.GetProperty("mtu").GetInt32());
        Assert.Contains("UP", IpJson.Flags(seen));

        var info = inside.Get(tenant);
        Assert.Equal(mac, info.Mac);
        Assert.Equal(1400, info.Mtu);
        Assert.True(info.IsUp);
        Assert.False(info.Carrier); // the primary end is still down
        Assert.NotEqual(LinkOperState.Up, info.OperState);

        root.SetUp(primary, true);
        root.SetPromiscuous(primary, true);
        var primarySeen = IpJson.RequireLink(primary);
        Assert.Contains("PROMISC", IpJson.Flags(primarySeen));
        Assert.True(Eventually.True(() => inside.Get(tenant).Carrier, 10_000), "tenant end should get carrier once both ends are up");
        Assert.True(Eventually.True(() => inside.Get(tenant).OperState == LinkOperState.Up, 10_000), $"operstate {inside.Get(tenant).OperState}");
        Assert.Contains(inside.List(), l => l.Name == tenant);

        root.Delete(primary);
        Assert.Null(IpJson.Link(primary));
        Assert.Null(IpJson.Link(tenant, ns)); // a veth goes away with its peer

        NetworkNamespace.Delete(ns);
        Assert.False(IpJson.NamespaceExists(ns));
    }

    [PrivilegedFact]
    public void Veth_peer_can_be_created_directly_inside_a_namespace()
    {
        using var scratch = new ScratchState();
        string ns = scratch.Namespace("peerns");
        string primary = scratch.Interface(), tenant = NetNamespace.UniqueInterface("mapp");
        NetworkNamespace.Create(ns);
        using var root = new LinkManager();
        root.CreateVethPair(primary, tenant, peerNamespace: ns, mtu: 1500);
        Assert.Null(IpJson.Link(tenant));
        Assert.Equal(1500, IpJson.RequireLink(tenant, ns).GetProperty("mtu").GetInt32());
    }

    [PrivilegedFact]
    public void Missing_interface_reports_ENODEV_with_its_name()
    {
        using var root = new LinkManager();
        string missing = NetNamespace.UniqueInterface("mapp");
        var e = Assert.Throws<PlatformException>(() => root.Get(missing));
        Assert.Equal(Errno.ENODEV, e.Errno);
        Assert.Contains(missing, e.Message);
        var e2 = Assert.Throws<PlatformException>(() => root.SetMtu(missing, 1400));
        Assert.Equal(Errno.ENODEV, e2.Errno);
        Assert.Contains(missing, e2.Message);
        Assert.Contains("RTM_SETLINK", e2.Message);
        Assert.Null(root.TryGet(missing));
    }

    [PrivilegedFact]
    public void Duplicate_name_reports_EEXIST_with_names_and_advice()
    {
        using var scratch = new ScratchState();
        string a = scratch.Interface(), b = scratch.Interface();
        using var root = new LinkManager();
        root.CreateVethPair(a, b);
        var e = Assert.Throws<PlatformException>(() => root.CreateVethPair(a, NetNamespace.UniqueInterface("mapp")));
        Assert.Equal(Errno.EEXIST, e.Errno);
        Assert.Contains(a, e.Message);
        Assert.Contains("already exists", e.Message);
    }

    [PrivilegedFact]
    public void Kernel_extended_ack_text_reaches_the_exception()
    {
        using var scratch = new ScratchState();
        string a = scratch.Interface(), b = scratch.Interface();
        using var root = new LinkManager();
        root.CreateVethPair(a, b);
        // 70000 is above the veth's max MTU; the kernel explains itself through extack.
        var e = Assert.Throws<PlatformException>(() => root.SetMtu(a, 70000));
        Assert.Equal(Errno.EINVAL, e.Errno);
        Assert.Contains("Kernel says:", e.Message);
        Assert.Contains("MTU", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [PrivilegedFact]
    public void Namespace_that_does_not_exist_is_reported_by_name()
    {
        using var scratch = new ScratchState();
        string a = scratch.Interface(), b = scratch.Interface();
        string missing = NetNamespace.UniqueName("absent");
        var e = Assert.Throws<PlatformException>(() => new LinkManager(missing));
        Assert.Equal(Errno.ENOENT, e.Errno);
        Assert.Contains(missing, e.Message);

        using var root = new LinkManager();
        var e2 = Assert.Throws<PlatformException>(() => root.CreateVethPair(a, b, peerNamespace: missing));
        Assert.Equal(Errno.ENOENT, e2.Errno);
        Assert.Contains(missing, e2.Message);
        Assert.Null(IpJson.Link(a)); // nothing created
    }

    [PrivilegedFact]
    public void Creating_an_existing_namespace_reports_EEXIST()
    {
        using var scratch = new ScratchState();
        string ns = scratch.Namespace("dup");
        NetworkNamespace.Create(ns);
        var e = Assert.Throws<PlatformException>(() => NetworkNamespace.Create(ns));
        Assert.Equal(Errno.EEXIST, e.Errno);
        Assert.Contains(ns, e.Message);
    }

    [PrivilegedFact]
    public void Libc_name_index_lookups_agree_with_netlink()
    {
        using var root = new LinkManager();
        var lo = root.Get("lo");
        Assert.Equal(lo.Index, SocketCalls.IfNameToIndex("lo"));
        Assert.Equal("lo", root.Get(lo.Index).Name);
        Assert.Equal(0, SocketCalls.IfNameToIndex(NetNamespace.UniqueInterface("mapp")));
    }
}
