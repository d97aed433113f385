using System.Buffers.Binary;
using Appliance.Datapath.Links;
using Appliance.Interop;
using Appliance.TestSupport;
using Xunit;
using static Appliance.Interop.NetlinkConstants;
using static Appliance.Interop.NetlinkRoute;

namespace Appliance.Datapath.Tests.Interop;

/// <summary>A netlink socket hears only the kernel: another process with CAP_NET_ADMIN in the namespace (a tenant's
/// root) can unicast to the appliance's port id, and what it sends must not pass for a link or route notification
/// or an ack.</summary>
[Collection(KernelCollection.Name)]
public sealed unsafe class NetlinkSenderTests
{
    [PrivilegedFact]
    public void A_datagram_from_another_netlink_socket_is_dropped_and_the_kernel_is_still_heard()
    {
        using var ns = new NetNamespace("nlsender");
        var (received, linksAfter) = NetworkNamespace.RunInside(ns.Name, () =>
        {
            using var victim = NetlinkSocket.Open();
            using var forger = NetlinkSocket.Open();
            victim.JoinGroup(RTNLGRP_LINK);

            // The victim's port id, as a forger finds it (ss -f netlink lists them all).
            Span<byte> address = stackalloc byte[12];
            uint length = 12;
            fixed (byte* a = address)
                Assert.Equal(0, Tmds.Linux.LibC.getsockname(victim.Fd, (Tmds.Linux.sockaddr*)a, (Tmds.Linux.socklen_t*)&length));
            uint victimPort = BinaryPrimitives.ReadUInt32LittleEndian(address[4..]);
            Assert.NotEqual(0u, victimPort);

            // A notification in the kernel's name: RTM_DELLINK of ifindex 1, nlmsg_pid 0 as the kernel writes it.
            Span<byte> buffer = stackalloc byte[64];
            var w = new NetlinkWriter(buffer, RTM_DELLINK, 0);
            w.WriteIfInfo(1);
            w.PutString(IFLA_IFNAME, "lo");
            var forged = w.Finish();
            BinaryPrimitives.WriteUInt32LittleEndian(address[8..], 0); // no groups: unicast to the port
            nint sent;
            fixed (byte* f = forged) fixed (byte* a = address)
                sent = SocketCalls.SendTo(forger.Fd, f, (nuint)forged.Length, 0, a, address.Length);
            Assert.Equal(forged.Length, (int)sent); // the kernel delivered it (root may unicast to any port)

            int got = victim.Receive(new byte[4096], nonBlocking: true);
            return (got, LinkNames(victim));
        });

        Assert.Equal(-Errno.EAGAIN, received); // not the forged datagram's length
        Assert.Contains("lo", linksAfter); // replies from the kernel still come through
    }

    /// <summary>A link dump over the socket under test.</summary>
    private static List<string> LinkNames(NetlinkSocket socket)
    {
        Span<byte> buffer = stackalloc byte[64];
        var w = new NetlinkWriter(buffer, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP);
        w.WriteIfInfo(0);
        var names = new List<string>();
        socket.Dump(w.Finish(), "dump", null,
            (in NetlinkMessage m) => { if (m.Type == RTM_NEWLINK) names.Add(LinkInfo.Parse(m.Payload).Name); }, names.Clear);
        return names;
    }
}
