using Appliance.Config;
using Appliance.Datapath.Tests.Engine;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Datapath.Tests.Runtime;

/// <summary>A program's bpf_skb_vlan_push (the vlan_tag example) sets an offloaded tag that the appliance writes into
/// the frame at transmit, in the headroom: 4 more bytes per frame on the wire, and the outside's stack untags them
/// back to the original frame (its kernel parses the 802.1Q header; this kernel has no 8021q module for a VLAN
/// interface, so the VLAN id itself is not checked here).</summary>
[Collection(KernelCollection.Name)]
public sealed class VlanTests
{
    [PrivilegedFact]
    public void AVlanPushedByThePeerChainLeavesTheUplinkTagged()
    {
        using var board = new MetaBoard(ports: 1, tenants: 1);
        var vlan = new ProgramConfig { Name = "vlan-100", Object = "vlan_tag.bpf.o", Section = "tc" };
        var rt = board.Start([board.Port(0)], [board.Pair(0, headroom: 4, peer: MetaBoard.Side(chain: "vlan-100"))], [vlan]);

        var got = FrameProbe.Exchange(board.Tenants[0].Name, MetaBoard.TenantInterface, board.Outside.Name, MetaBoard.OutsideInterface(0),
            board.OutsideMac(0), MetaBoard.TenantMac(0).GetBytes(), 4, out var sent);
        Assert.Equal(sent, got); // untagged by the outside's stack: the bytes around the tag are intact
        Assert.Equal(4, rt.Programs["vlan-100"].Counters.Next); // it tags and lets the chain go on: at its end, PASS
        Assert.Equal(4 * (128 + 4), rt.Engine.CountersOf(0).TxBytes); // 4 bytes of tag on the wire
    }
}
