using Appliance.Bpf.Routing;
using Appliance.Interop;
using static Appliance.Interop.NetlinkConstants;
using static Appliance.Interop.NetlinkRoute;

namespace Appliance.Datapath.Links;

/// <summary>Routes in the namespace of <paramref name="links"/> (RTM_NEWROUTE), as an L3 tenant needs them.</summary>
public sealed class LinkRoutes(LinkManager links)
{
    /// <summary>`ip route add default dev NAME` (or `ip -6 route add default dev NAME`): everything of the family goes
    /// out of interface <paramref name="name"/> with no gateway, as netkit L3 sets a pod up (the device is NOARP, so
    /// no neighbour is resolved). Throws EEXIST when the namespace has a default route of the family already.</summary>
    public void AddDefault(string name, IpFamily family) =>
        ChangeDefault(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, name, family);

    /// <summary>`ip route replace default dev NAME`: <see cref="AddDefault"/>, where the route may be there already. A
    /// reload that changes an L3 tenant's addresses sets it again: Linux deletes a device's IPv4 routes with its last
    /// IPv4 address, which goes before the new ones come.</summary>
    public void ReplaceDefault(string name, IpFamily family) =>
        ChangeDefault(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, name, family);

    /// <summary>`ip route del default dev NAME` for <paramref name="family"/>; nothing when there is none (ESRCH).</summary>
    public void DeleteDefault(string name, IpFamily family)
    {
        try
        {
            ChangeDefault(RTM_DELROUTE, 0, name, family);
        }
        catch (PlatformException e) when (e.Errno == Errno.ESRCH) { }
    }

    /// <summary>Whether <paramref name="addresses"/> has one of <paramref name="family"/> (an L3 tenant gets that
    /// family's default route).</summary>
    public static bool HasFamily(IEnumerable<Appliance.Config.InterfaceAddress> addresses, IpFamily family) =>
        addresses.Any(a => a.IsIPv6 == (family == IpFamily.Inet6));

    private void ChangeDefault(ushort type, int extraFlags, string name, IpFamily family)
    {
        int index = links.Get(name).Index;
        Span<byte> buffer = stackalloc byte[128];
        var w = new NetlinkWriter(buffer, type, (ushort)(NLM_F_REQUEST | NLM_F_ACK | extraFlags));
        w.WriteRtMsg((byte)family, 0, RT_TABLE_MAIN, RTPROT_STATIC, family == IpFamily.Inet ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE, RTN_UNICAST);
        w.PutS32(RTA_OIF, index);
        string verb = type == RTM_NEWROUTE ? "RTM_NEWROUTE" : "RTM_DELROUTE";
        links.Socket.Transact(w.Finish(), $"rtnetlink {verb} (default {(family == IpFamily.Inet ? "IPv4" : "IPv6")} route dev {name})",
            links.Where(name), hintFor: errno => errno == Errno.EEXIST ? "the namespace has a default route of this family already" : null);
    }
}
