using System.Net.NetworkInformation;
using Appliance.Interop;
using static Appliance.Interop.NetlinkConstants;
using static Appliance.Interop.NetlinkRoute;

namespace Appliance.Datapath.Links;

/// <summary>Queries and changes interfaces of one network namespace over rtnetlink (never by running `ip`).
/// The netlink socket is opened inside the namespace, so every call acts there, from any thread. Failures
/// throw <see cref="PlatformException"/> with the operation, the interface (and namespace), the errno and
/// the kernel's extended-ack text.</summary>
/// <remarks>The socket holds a reference on its namespace: while a manager for a tenant namespace is open, an
/// `ip netns del` of it only removes the name, and the namespace with its interfaces lives on. Keep managers
/// for tenant namespaces short-lived (using blocks), as <see cref="OwnedLinks"/> does.</remarks>
public sealed class LinkManager : IDisposable
{
    /// <summary>Adds attributes to a link request after IFLA_IFNAME.</summary>
    internal delegate void AttributeWriter(ref NetlinkWriter writer);

    private const int RequestBufferSize = 1024;

    /// <summary>Opens a manager for namespace <paramref name="netns"/> (a name under /var/run/netns), or for
    /// the caller's namespace when null.</summary>
    public LinkManager(string? netns = null)
    {
        Namespace = netns;
        Socket = NetworkNamespace.RunInside(netns, () => NetlinkSocket.Open());
    }

    /// <summary>The namespace this manager acts in; null for the appliance's own.</summary>
    public string? Namespace { get; }

    /// <summary>The rtnetlink socket inside <see cref="Namespace"/> (also used for SIOCETHTOOL there).</summary>
    internal NetlinkSocket Socket { get; }

    /// <summary>The interface called <paramref name="name"/>; throws ENODEV naming it when absent.</summary>
    public LinkInfo Get(string name) => GetCore(0, name);

    /// <summary>The interface with ifindex <paramref name="index"/>; throws ENODEV when absent.</summary>
    public LinkInfo Get(int index) => GetCore(index, null);

    /// <summary>The interface called <paramref name="name"/>, or null when there is none.</summary>
    public LinkInfo? TryGet(string name)
    {
        try { return Get(name); }
        catch (PlatformException e) when (e.Errno == Errno.ENODEV) { return null; }
    }

    /// <summary>All interfaces of the namespace.</summary>
    public IReadOnlyList<LinkInfo> List()
    {
        Span<byte> buffer = stackalloc byte[64];
        var w = new NetlinkWriter(buffer, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP);
        w.WriteIfInfo(0);
        w.PutU32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
        var links = new List<LinkInfo>();
        Socket.Dump(w.Finish(), "rtnetlink RTM_GETLINK dump", Where("all interfaces"),
            (in NetlinkMessage m) => { if (m.Type == RTM_NEWLINK) links.Add(LinkInfo.Parse(m.Payload)); }, links.Clear);
        return links;
    }

    /// <summary>Creates a veth pair: <paramref name="name"/> here and <paramref name="peerName"/> either here or,
    /// when <paramref name="peerNamespace"/> is given, created directly inside that namespace. Both start down.
    /// Throws EEXIST when a name is taken. <paramref name="queues"/>: RX and TX queues of both
    /// ends (numrxqueues/numtxqueues; null: the kernel's 1).</summary>
    public void CreateVethPair(string name, string peerName, string? peerNamespace = null, int? mtu = null, int? queues = null)
    {
        using var peerNs = peerNamespace is null ? null : NetworkNamespace.Open(peerNamespace);
        int peerNsFd = peerNs?.Fd ?? -1;
        Span<byte> buffer = stackalloc byte[RequestBufferSize];
        var w = new NetlinkWriter(buffer, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
        w.WriteIfInfo(0);
        PutEnd(ref w, name, mtu, queues);
        int linkInfo = w.BeginNested(IFLA_LINKINFO);
        w.PutString(IFLA_INFO_KIND, "veth");
        int data = w.BeginNested(IFLA_INFO_DATA);
        int peer = w.BeginNested(VETH_INFO_PEER);
        w.WriteIfInfo(0); // VETH_INFO_PEER carries its own ifinfomsg before the peer's attributes
        PutEnd(ref w, peerName, mtu, queues);
        if (peerNsFd >= 0) w.PutS32(IFLA_NET_NS_FD, peerNsFd);
        w.EndNested(peer);
        w.EndNested(data);
        w.EndNested(linkInfo);
        string peerWhere = peerNamespace is null ? peerName : $"{peerName} in netns {peerNamespace}";
        Socket.Transact(w.Finish(), "rtnetlink RTM_NEWLINK (create veth pair)", $"{Where(name)} / peer {peerWhere}",
            hintFor: errno => errno == Errno.EEXIST
                ? $"An interface called {name} or {peerName} already exists; delete it or choose other names"
                : null);

        // The attributes both ends carry: name, MTU, queue counts.
        static void PutEnd(ref NetlinkWriter w, string ifName, int? mtu, int? queues)
        {
            w.PutString(IFLA_IFNAME, ifName);
            if (mtu is { } m) w.PutU32(IFLA_MTU, (uint)m);
            if (queues is { } q)
            {
                w.PutU32(IFLA_NUM_TX_QUEUES, (uint)q);
                w.PutU32(IFLA_NUM_RX_QUEUES, (uint)q);
            }
        }
    }

    /// <summary>Sets the hardware address.</summary>
    public void SetMac(string name, PhysicalAddress mac)
    {
        var bytes = mac.GetAddressBytes();
        SetLink(0, name, $"set MAC {mac}", (ref NetlinkWriter w) => w.PutBytes(IFLA_ADDRESS, bytes));
    }

    /// <summary>Sets the MTU.</summary>
    public void SetMtu(string name, int mtu) =>
        SetLink(0, name, $"set MTU {mtu}", (ref NetlinkWriter w) => w.PutU32(IFLA_MTU, (uint)mtu),
            errno => errno == Errno.EINVAL ? "The MTU is outside the device's range (see ip -d link: minmtu/maxmtu)" : null);

    /// <summary>Sets the interface administratively up or down.</summary>
    public void SetUp(string name, bool up) => SetFlag(name, IFF_UP, up, up ? "set up" : "set down");

    /// <summary>Sets IFF_NOARP (no ARP / neighbour discovery on the interface, as a netkit device in L3 mode) or clears it.</summary>
    public void SetNoArp(string name, bool on) => SetFlag(name, IFF_NOARP, on, on ? "set arp off" : "set arp on");

    /// <summary>Turns promiscuous mode on or off.</summary>
    public void SetPromiscuous(string name, bool on) => SetFlag(name, IFF_PROMISC, on, on ? "set promisc on" : "set promisc off");

    /// <summary>Sets IFLA_IFALIAS (shown by `ip link` as "alias"); an empty string clears it.</summary>
    public void SetAlias(string name, string alias) =>
        SetLink(0, name, "set alias", (ref NetlinkWriter w) => w.PutString(IFLA_IFALIAS, alias));

    /// <summary>Deletes an interface (for a veth, both ends go).</summary>
    public void Delete(string name)
    {
        Span<byte> buffer = stackalloc byte[128];
        var w = new NetlinkWriter(buffer, RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK);
        w.WriteIfInfo(0);
        w.PutString(IFLA_IFNAME, name);
        Socket.Transact(w.Finish(), "rtnetlink RTM_DELLINK", Where(name));
    }

    /// <summary>"NAME" or "NAME in netns NS", for messages.</summary>
    internal string Where(string name) => Namespace is null ? name : $"{name} in netns {Namespace}";

    /// <summary>Sends RTM_SETLINK for the interface found by <paramref name="index"/> (when non-zero, needed when
    /// the request carries a new IFLA_IFNAME) or by <paramref name="name"/>.</summary>
    internal void SetLink(int index, string name, string what, AttributeWriter? attributes, Func<int, string?>? hintFor = null,
        uint flags = 0, uint change = 0)
    {
        Span<byte> buffer = stackalloc byte[RequestBufferSize];
        var w = new NetlinkWriter(buffer, RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK);
        w.WriteIfInfo(index, flags, change);
        if (index == 0) w.PutString(IFLA_IFNAME, name);
        attributes?.Invoke(ref w);
        Socket.Transact(w.Finish(), $"rtnetlink RTM_SETLINK ({what})", Where(name), hintFor: hintFor);
    }

    private void SetFlag(string name, uint flag, bool on, string what) =>
        SetLink(0, name, what, null, flags: on ? flag : 0, change: flag);

    private LinkInfo GetCore(int index, string? name)
    {
        Span<byte> buffer = stackalloc byte[128];
        var w = new NetlinkWriter(buffer, RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK);
        w.WriteIfInfo(index);
        if (name is not null) w.PutString(IFLA_IFNAME, name);
        w.PutU32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
        LinkInfo? found = null;
        Socket.Transact(w.Finish(), "rtnetlink RTM_GETLINK", Where(name ?? $"ifindex {index}"),
            (in NetlinkMessage m) => { if (m.Type == RTM_NEWLINK) found = LinkInfo.Parse(m.Payload); });
        return found ?? throw new PlatformException("rtnetlink RTM_GETLINK", Where(name ?? $"ifindex {index}"), Errno.ENODEV);
    }

    public void Dispose() => Socket.Dispose();
}
