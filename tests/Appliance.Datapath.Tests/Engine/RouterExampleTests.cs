using System.Buffers.Binary;
using Appliance.Config;
using Appliance.Datapath.Forwarding;
using Appliance.Datapath.Replay;
using Appliance.Datapath.Runtime;
using Appliance.Datapath.Tests.Runtime;
using Xunit;

namespace Appliance.Datapath.Tests.Engine;

/// <summary>examples/router.json's guest pair does what the example says, through the worker and the example
/// programs: its tenant's web traffic leaves eth2 in VLAN 30 (vlan_tag, then allow_port on the peer side), anything
/// else it sends is dropped, and from eth2 only VLAN 30 reaches it, untagged (vlan_untag on the primary side; an
/// untagged frame is the trunk's native VLAN, not the guest's). Engine
/// ports: eth0, eth1, eth2, then the pairs office, branch, guest.</summary>
public sealed class RouterExampleTests
{
    private const int Eth2 = 2, Guest = 5;
    private static readonly byte[] GuestMac = [0x02, 0x52, 0x35, 0x00, 0x0a, 0x01], Outside = [0x02, 0, 0, 0, 0x30, 0x01];
    private static readonly byte[] GuestIp = [10, 30, 0, 2], Server = [10, 30, 0, 1];

    [Fact]
    public void TheGuestsWebTrafficLeavesInVlan30AndOnlyVlan30ReachesItUntagged()
    {
        var loaded = ConfigLoader.LoadFile(Path.Combine(TestObjects.RepoRoot(), "examples", "router.json"));
        Assert.True(loaded.IsValid, string.Join("\n", loaded.Errors));
        var offline = OfflineTopology.Build(loaded.Config!, TestObjects.Directory, TestObjects.Directory);
        Assert.Equal("guest", offline.Topology.PairByEnginePort[Guest]!.Name);
        using var handler = new PairFrameHandler(new TopologySource(offline.Topology));
        using var b = new FakeBoard(handler, ports: 6);

        byte[] web = Tcp(Outside, GuestMac, GuestIp, Server, 80), dns = Udp(Outside, GuestMac, GuestIp, Server, 53);
        Assert.Equal(2, b.Kernel(Guest).Deliver([web, dns]));
        b.Settle();
        var sent = Assert.Single(b.Kernel(Eth2).Sent);
        Assert.Equal(Tagged(web, 30), sent);

        byte[] reply = Tcp(GuestMac, Outside, Server, GuestIp, 80, reply: true);
        Assert.Equal(4, b.Kernel(Eth2).Deliver([Tagged(reply, 30), Tagged(reply, 31), Tagged(reply, 1), reply]));
        b.Settle();
        Assert.Equal([reply], b.Kernel(Guest).Sent);
        b.AssertClean();
    }

    private static byte[] Tagged(byte[] frame, ushort vlan) => TestFrames.Tagged(frame, (0x8100, vlan));

    private static byte[] Tcp(byte[] dstMac, byte[] srcMac, byte[] src, byte[] dst, ushort serverPort, bool reply = false)
    {
        var tcp = new byte[20];
        BinaryPrimitives.WriteUInt16BigEndian(tcp, reply ? serverPort : (ushort)40000);
        BinaryPrimitives.WriteUInt16BigEndian(tcp.AsSpan(2), reply ? (ushort)40000 : serverPort);
        tcp[12] = 5 << 4;
        tcp[13] = 0x02; // SYN
        return TestFrames.Ip(dstMac, srcMac, src, dst, 6, tcp);
    }

    private static byte[] Udp(byte[] dstMac, byte[] srcMac, byte[] src, byte[] dst, ushort port)
    {
        var udp = new byte[16];
        BinaryPrimitives.WriteUInt16BigEndian(udp, 40001);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(2), port);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(4), 16);
        return TestFrames.Ip(dstMac, srcMac, src, dst, 17, udp);
    }
}
