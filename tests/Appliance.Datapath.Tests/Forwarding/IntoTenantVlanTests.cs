using Appliance.Datapath.Engine;
using Appliance.Datapath.Forwarding;
using Appliance.Datapath.Runtime;
using Appliance.Datapath.Tests.Engine;
using Xunit;

namespace Appliance.Datapath.Tests.Forwarding;

/// <summary>The forwarding worker hands a tenant that does not trunk VLANs only frames its primary chain left untagged
/// (<see cref="TenantGuard.RefusesIntoTenant"/>), on an offline topology through the engine: port eth0, then L2 pairs
/// a (an access tenant), b (<c>serves: ["vlans"]</c>) and c (an access tenant whose primary chain pushes VLAN 100,
/// vlan_tag). A refused frame is counted <c>vlanTagged</c> on the pair's primary side and <c>policy</c> on the port. A
/// priority tag alone (VLAN ID 0) names no VLAN: that frame is a's own LAN's.</summary>
public sealed class IntoTenantVlanTests
{
    private const int Eth0 = 0, A = 1, B = 2, C = 3;
    private static readonly byte[] Outside = [0x02, 0, 0, 0, 0x0e, 0x01];
    private static byte[] Mac(int pair) => [0x02, 0, 0, 0, 0x0a, (byte)pair];

    [Fact]
    public void A_frame_still_tagged_after_the_primary_chain_reaches_only_a_tenant_that_trunks_VLANs()
    {
        var topology = ConfigTopology.From("""
            {
              "board": "test",
              "ports": [{ "name": "eth0" }],
              "pairs": [
                { "name": "a", "mode": "l2", "uplink": "eth0", "tenant": { "netns": "ta", "interface": "eth0", "mac": "02:00:00:00:0a:01" } },
                { "name": "b", "mode": "l2", "uplink": "eth0",
                  "tenant": { "netns": "tb", "interface": "eth0", "mac": "02:00:00:00:0a:02", "serves": ["vlans"] } },
                { "name": "c", "mode": "l2", "uplink": "eth0", "headroom": 4,
                  "tenant": { "netns": "tc", "interface": "eth0", "mac": "02:00:00:00:0a:03" },
                  "primary": { "policy": "pass", "chain": [{ "program": "tag" }] } }
              ],
              "programs": [{ "name": "tag", "object": "vlan_tag.bpf.o", "section": "tc" }]
            }
            """, Runtime.TestObjects.Directory);
        using var handler = new PairFrameHandler(new TopologySource(topology));
        using var board = new FakeBoard(handler, ports: topology.EnginePortCount);

        byte[] aTagged = TestFrames.Tagged(TestFrames.Build(Mac(A), Outside, 100, 1), (0x8100, 10));
        byte[] aPriority = TestFrames.Tagged(TestFrames.Build(Mac(A), Outside, 100, 2), (0x8100, 0), (0x8100, 10));
        byte[] aQinQ = TestFrames.Tagged(TestFrames.Build(Mac(A), Outside, 100, 3), (0x88a8, 20), (0x8100, 10));
        byte[] aPlain = TestFrames.Build(Mac(A), Outside, 100, 4);
        byte[] aPriorityOnly = TestFrames.Tagged(TestFrames.Build(Mac(A), Outside, 100, 8), (0x8100, 0)); // its own LAN, 802.1p priority
        byte[] bTagged = TestFrames.Tagged(TestFrames.Build(Mac(B), Outside, 100, 5), (0x8100, 10));
        byte[] bPlain = TestFrames.Build(Mac(B), Outside, 100, 6);
        byte[] cPlain = TestFrames.Build(Mac(C), Outside, 100, 7);
        Assert.Equal(8, board.Kernel(Eth0).Deliver([aTagged, aPriority, aQinQ, aPlain, aPriorityOnly, bTagged, bPlain, cPlain]));
        board.Settle();

        Assert.Equal([aPlain, aPriorityOnly], board.Kernel(A).Sent);
        Assert.Equal([bTagged, bPlain], board.Kernel(B).Sent);
        Assert.Empty(board.Kernel(C).Sent); // its chain tagged it VLAN 100
        Assert.Equal(3, topology.Pairs[0].Primary.Counters.Drops(PairDropReason.VlanTagged));
        Assert.Equal(0, topology.Pairs[1].Primary.Counters.Drops(PairDropReason.VlanTagged));
        Assert.Equal(1, topology.Pairs[2].Primary.Counters.Drops(PairDropReason.VlanTagged));
        Assert.Equal(2, topology.Pairs[0].Primary.Counters.TxPackets); // delivered: the untagged and the priority-tagged one
        Assert.Equal(0, topology.Pairs[2].Primary.Counters.TxPackets);
        Assert.Equal(4, board.Engine.CountersOf(Eth0).Drops(DropReason.Policy));
        board.AssertClean();
    }

    /// <summary>Into an L3 tenant no tag goes, a priority tag neither (its pair routes untagged frames only, both ways);
    /// into an L2 access tenant a priority tag alone goes, a priority tag in front of another does not, and into one
    /// that trunks VLANs everything goes.</summary>
    [Fact]
    public void A_priority_tag_goes_into_an_L2_access_tenant_but_not_into_an_L3_tenant()
    {
        var pairs = ConfigTopology.From("""
            {
              "board": "test",
              "ports": [{ "name": "eth0" }],
              "pairs": [
                { "name": "a", "mode": "l2", "uplink": "eth0", "tenant": { "netns": "ta", "interface": "eth0", "mac": "02:00:00:00:0a:01" } },
                { "name": "b", "mode": "l2", "uplink": "eth0",
                  "tenant": { "netns": "tb", "interface": "eth0", "mac": "02:00:00:00:0a:02", "serves": ["vlans"] } },
                { "name": "c", "mode": "l3", "uplink": "eth0", "tenant": { "netns": "tc", "interface": "eth0", "addresses": ["10.9.7.1/24"] } }
              ],
              "programs": []
            }
            """).Pairs;
        byte[] plain = TestFrames.Build(Mac(A), Outside, 100, 1);
        byte[] priority = TestFrames.Tagged(plain, (0x8100, 0));
        byte[] priorityThen10 = TestFrames.Tagged(plain, (0x8100, 0), (0x8100, 10));
        byte[] vlan10 = TestFrames.Tagged(plain, (0x8100, 10));

        bool[] Refused(byte[] frame) => [.. pairs.Select(p => TenantGuard.RefusesIntoTenant(frame, p))];
        Assert.Equal([false, false, false], Refused(plain));
        Assert.Equal([false, false, true], Refused(priority));
        Assert.Equal([true, false, true], Refused(priorityThen10));
        Assert.Equal([true, false, true], Refused(vlan10));
    }
}
