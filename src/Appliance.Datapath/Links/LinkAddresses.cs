using System.Net;
using System.Net.Sockets;
using Appliance.Interop;
using static Appliance.Interop.NetlinkConstants;
using static Appliance.Interop.NetlinkRoute;

namespace Appliance.Datapath.Links;

/// <summary>IPv4/IPv6 addresses on interfaces of the namespace of <paramref name="links"/> (RTM_NEWADDR/RTM_DELADDR).</summary>
public sealed class LinkAddresses(LinkManager links)
{
    /// <summary>Adds <paramref name="address"/>/<paramref name="prefixLength"/> to interface <paramref name="name"/>,
    /// as `ip addr add` does (IFA_LOCAL and IFA_ADDRESS both set). Throws EEXIST when it is already there.</summary>
    public void Add(string name, IPAddress address, int prefixLength) =>
        Change(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, "add", name, address, prefixLength);

    /// <summary>`ip addr replace`: <see cref="Add"/>, where the address may be there already (then it stays as it is).</summary>
    public void Replace(string name, IPAddress address, int prefixLength) =>
        Change(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, "replace", name, address, prefixLength);

    /// <summary>Removes <paramref name="address"/>/<paramref name="prefixLength"/> from interface <paramref name="name"/>.
    /// Linux removes an IPv4 address's secondaries (the interface's other addresses in its subnet) with it, unless the
    /// interface promotes secondaries (promote_secondaries).</summary>
    public void Remove(string name, IPAddress address, int prefixLength) =>
        Change(RTM_DELADDR, 0, "delete", name, address, prefixLength);

    private void Change(ushort type, ushort extraFlags, string verb, string name, IPAddress address, int prefixLength)
    {
        bool v4 = address.AddressFamily == AddressFamily.InterNetwork;
        int maxPrefix = v4 ? 32 : 128;
        if (prefixLength < 0 || prefixLength > maxPrefix)
            throw new ArgumentOutOfRangeException(nameof(prefixLength), $"prefix length {prefixLength} is not in 0..{maxPrefix}");
        int index = links.Get(name).Index;
        var bytes = address.GetAddressBytes();
        Span<byte> buffer = stackalloc byte[128];
        var w = new NetlinkWriter(buffer, type, (ushort)(NLM_F_REQUEST | NLM_F_ACK | extraFlags));
        w.WriteIfAddr((byte)(v4 ? Tmds.Linux.LibC.AF_INET : Tmds.Linux.LibC.AF_INET6), (byte)prefixLength, index);
        w.PutBytes(IFA_LOCAL, bytes);
        w.PutBytes(IFA_ADDRESS, bytes);
        links.Socket.Transact(w.Finish(), $"rtnetlink {(type == RTM_NEWADDR ? "RTM_NEWADDR" : "RTM_DELADDR")} ({verb} {address}/{prefixLength})",
            links.Where(name), hintFor: errno => errno switch
            {
                Errno.EEXIST => $"{address}/{prefixLength} is already assigned to {name}",
                Errno.EADDRNOTAVAIL => $"{address}/{prefixLength} is not assigned to {name}",
                _ => null,
            });
    }
}
