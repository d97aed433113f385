using Appliance.Datapath.Links;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Datapath.Tests.Links;

[Collection(KernelCollection.Name)]
public sealed class LinkEthtoolTests
{
    [PrivilegedFact]
    public void Tx_checksum_offload_is_turned_off_inside_the_tenant_namespace()
    {
        using var scratch = new ScratchState();
        string ns = scratch.Namespace("csum");
        string primary = scratch.Interface(), tenant = NetNamespace.UniqueInterface("mapp");
        NetworkNamespace.Create(ns);
        using var root = new LinkManager();
        root.CreateVethPair(primary, tenant, peerNamespace: ns);
        using var inside = new LinkManager(ns);
        var ethtool = new LinkEthtool(inside);

        Assert.Equal("on", TxChecksumming(ns, tenant)); // veth starts with offload on

        ethtool.DisableTxChecksum(tenant);

        Assert.Equal("off", TxChecksumming(ns, tenant));
        Assert.Equal("on", TxChecksumming(null, primary)); // the appliance's end is untouched
    }

    [PrivilegedFact]
    public void Rx_queue_count_of_a_veth_is_its_real_queue_count()
    {
        using var scratch = new ScratchState();
        string a = scratch.Interface(), b = scratch.Interface(), c = scratch.Interface(), d = scratch.Interface();
        using var root = new LinkManager();
        var ethtool = new LinkEthtool(root);
        root.CreateVethPair(a, b);
        Assert.Equal(1, ethtool.RxQueueCount(a));
        Assert.Equal(1, (int)ethtool.GetChannels(a).Rx);

        // A veth made with 2 queues reports 2 (checked against ethtool -l).
        Shell.Check("ip", "link", "add", c, "numrxqueues", "2", "numtxqueues", "2", "type", "veth", "peer", "name", d,
            "numrxqueues", "2", "numtxqueues", "2");
        Shell.Check("ethtool", "-L", c, "rx", "2", "tx", "2");
        Assert.Equal(2, ethtool.RxQueueCount(c));
        Assert.Contains("RX:\t\t2", Shell.Check("ethtool", "-l", c).Split("Current hardware settings:")[1]);
    }

    [PrivilegedFact]
    public void Missing_interface_names_itself_and_the_namespace()
    {
        using var root = new LinkManager();
        string missing = NetNamespace.UniqueInterface("mapp");
        var e = Assert.Throws<Appliance.Interop.PlatformException>(() => new LinkEthtool(root).DisableTxChecksum(missing));
        Assert.Equal(Appliance.Errno.ENODEV, e.Errno);
        Assert.Contains(missing, e.Message);
        Assert.Contains("ETHTOOL_STXCSUM", e.Message);
    }

    /// <summary>`ethtool -k` "tx-checksumming" value ("on"/"off").</summary>
    private static string TxChecksumming(string? ns, string name)
    {
        var output = ns is null ? Shell.Check("ethtool", "-k", name) : Shell.Check("ip", "netns", "exec", ns, "ethtool", "-k", name);
        var line = output.Split('\n').Single(l => l.StartsWith("tx-checksumming:", StringComparison.Ordinal));
        return line.Split(':')[1].Trim().Split(' ')[0];
    }
}
