using Appliance.TestSupport;

namespace Appliance.Datapath.Tests.Engine;

/// <summary>ns-a [a0] ==veth== [In] appliance [Out] ==veth== [b0] ns-b. The appliance ends live in the test's own
/// namespace (<see cref="ApplianceNamespace"/> null) or in a namespace of their own. IPv6 is off everywhere, so
/// the only frames are the test's. Everything is deleted on Dispose, also after a failure.</summary>
public sealed class ForwardTopology : IDisposable
{
    public const string TenantA = "a0", TenantB = "b0";
    public const string AddressA = "198.18.3.1", AddressB = "198.18.3.2";

    public NetNamespace NsA { get; }
    public NetNamespace NsB { get; }
    public NetNamespace? NsF { get; }
    public string In { get; }
    public string Out { get; }
    public string? ApplianceNamespace => NsF?.Name;
    private readonly int _queues;

    private string[] QueueArgs => _queues == 1 ? [] : ["numtxqueues", _queues.ToString(), "numrxqueues", _queues.ToString()];

    /// <param name="queues">RX and TX queues of every veth end (numrxqueues/numtxqueues), for multi-worker engines.</param>
    public ForwardTopology(bool applianceInOwnNamespace = false, bool withAddresses = false, int queues = 1)
    {
        _queues = queues;
        NsA = new NetNamespace("fa");
        NsB = new NetNamespace("fb");
        try
        {
            NsF = applianceInOwnNamespace ? new NetNamespace("ff") : null;
            In = applianceInOwnNamespace ? "fwd-in" : NetNamespace.UniqueInterface("mapp");
            Out = applianceInOwnNamespace ? "fwd-out" : NetNamespace.UniqueInterface("mapp");
            foreach (var ns in new[] { NsA, NsB, NsF }.OfType<NetNamespace>())
                ns.Exec("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1");
            Pair(In, TenantA, NsA);
            Pair(Out, TenantB, NsB);
            if (withAddresses)
            {
                NsA.Exec("ip", "addr", "add", AddressA + "/24", "dev", TenantA);
                NsB.Exec("ip", "addr", "add", AddressB + "/24", "dev", TenantB);
                // AF_XDP copies raw bytes: tenants must not leave checksums to offload (afxdp.md §18.8).
                NsA.Exec("ethtool", "-K", TenantA, "tx", "off");
                NsB.Exec("ethtool", "-K", TenantB, "tx", "off");
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private void Pair(string applianceEnd, string tenantEnd, NetNamespace tenantNs)
    {
        if (NsF is null)
        {
            Shell.Check("ip", ["link", "add", applianceEnd, .. QueueArgs, "type", "veth", "peer", "name", tenantEnd, .. QueueArgs, "netns", tenantNs.Name]);
            Shell.Check("sysctl", "-qw", $"net.ipv6.conf.{applianceEnd}.disable_ipv6=1");
            Shell.Check("ip", "link", "set", applianceEnd, "up");
        }
        else
        {
            Shell.Check("ip", ["-n", NsF.Name, "link", "add", applianceEnd, .. QueueArgs, "type", "veth", "peer", "name", tenantEnd, .. QueueArgs, "netns", tenantNs.Name]);
            Shell.Check("ip", "-n", NsF.Name, "link", "set", applianceEnd, "up");
        }
        tenantNs.Exec("ip", "link", "set", tenantEnd, "up");
    }

    public string MacOf(NetNamespace ns, string ifname) => ns.Exec("cat", $"/sys/class/net/{ifname}/address").Trim();

    public static byte[] ParseMac(string mac) => mac.Split(':').Select(h => Convert.ToByte(h, 16)).ToArray();

    /// <summary>An interface counter read inside its namespace (rx_packets, tx_packets, ...).</summary>
    public static long Counter(NetNamespace ns, string ifname, string counter) =>
        long.Parse(ns.Exec("cat", $"/sys/class/net/{ifname}/statistics/{counter}").Trim());

    public void Dispose()
    {
        if (NsF is null)
        {
            if (In is not null) Shell.Run("ip", "link", "del", In);
            if (Out is not null) Shell.Run("ip", "link", "del", Out);
        }
        NsF?.Dispose();
        NsA.Dispose();
        NsB.Dispose();
    }
}
