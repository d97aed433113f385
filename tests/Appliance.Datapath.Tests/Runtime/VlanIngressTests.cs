using System.Net;
using Appliance.Config;
using Appliance.Datapath.Forwarding;
using Appliance.Datapath.Programs;
using Appliance.Datapath.Runtime;
using Appliance.Datapath.Tests.Engine;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Datapath.Tests.Runtime;

/// <summary>What a tenant receives is what a switch's port hands its host: a tenant that does not trunk VLANs gets no
/// frame that is still tagged after its primary chain ran — to its MAC (the forwarding worker's path) or broadcast
/// (the group-frame flooder's, which gets the frame from the kernel with its outer tag taken off and puts it back) —
/// counted <c>vlanTagged</c> on its primary side; a tenant that trunks them gets them as they came. A chain that takes
/// its VLAN's tag off (vlan_untag, as router.json's guest) hears that VLAN only. The tagged frames come from a raw
/// socket outside (this kernel has no 8021q module for a VLAN interface); the tenants read them with the tag the
/// kernel took off put back, so a frame that arrives tagged is told from one that arrives untagged. A priority tag
/// (VLAN ID 0) alone puts a frame in the port's own LAN (802.1Q): the access tenant gets it as it came.</summary>
[Collection(KernelCollection.Name)]
public sealed class VlanIngressTests
{
    private const int Access = 0, Trunk = 1;

    /// <summary>Without the check the access tenant got every frame to its MAC tagged as it came (3 more) and the
    /// tagged broadcasts untagged, as if on its own LAN. When a priority tag counted as a VLAN's, the access tenant got
    /// neither priority-tagged frame (the to-MAC one nor the broadcast), which its own LAN's hosts send.</summary>
    [PrivilegedFact]
    public void A_tenant_that_does_not_trunk_VLANs_receives_no_tagged_frame_and_one_that_trunks_gets_them_as_they_came()
    {
        using var board = new MetaBoard(ports: 1, tenants: 2);
        var trunk = board.Pair(Trunk) with { Tenant = board.Pair(Trunk).Tenant with { Serves = [TenantService.Vlans] } };
        var rt = board.Start([board.Port(0)], [board.Pair(Access), trunk]);
        byte[] outside = board.OutsideMac(0);

        byte[][] ToTenant(int tenant, int first) =>
        [
            TestFrames.Tagged(TestFrames.Build(MetaBoard.TenantMac(tenant).GetBytes(), outside, 100, first), (0x8100, 10)),
            TestFrames.Tagged(TestFrames.Build(MetaBoard.TenantMac(tenant).GetBytes(), outside, 100, first + 1), (0x88a8, 20), (0x8100, 10)),
            TestFrames.Tagged(TestFrames.Build(MetaBoard.TenantMac(tenant).GetBytes(), outside, 100, first + 2), (0x8100, 0), (0x8100, 10)), // a priority tag in front of VLAN 10's
            TestFrames.Tagged(TestFrames.Build(MetaBoard.TenantMac(tenant).GetBytes(), outside, 100, first + 3), (0x8100, 0)), // priority tag: the native LAN
            TestFrames.Build(MetaBoard.TenantMac(tenant).GetBytes(), outside, 100, first + 4),
        ];
        byte[] who10 = TestFrames.Tagged(ArpRequest(outside, "10.50.0.10"), (0x8100, 10));
        byte[] whoQinQ = TestFrames.Tagged(ArpRequest(outside, "10.50.0.20"), (0x88a8, 20), (0x8100, 10));
        byte[] whoPriority = TestFrames.Tagged(ArpRequest(outside, "10.50.0.2"), (0x8100, 0));
        byte[] whoUntagged = ArpRequest(outside, "10.50.0.1");
        byte[][] toAccess = ToTenant(Access, 1), toTrunk = ToTenant(Trunk, 11);

        var got = Exchange(board, [.. toAccess, .. toTrunk, who10, whoQinQ, whoPriority, whoUntagged], Access, Trunk);

        AssertSameFrames([toAccess[3], toAccess[4], whoPriority, whoUntagged], got[Access]);
        AssertSameFrames([.. toTrunk, who10, whoQinQ, whoPriority, whoUntagged], got[Trunk]);
        Assert.Equal(5, rt.FindPair(board.PairNames[Access]).Primary.Counters.Drops(PairDropReason.VlanTagged));
        Assert.Equal(0, rt.FindPair(board.PairNames[Trunk]).Primary.Counters.Drops(PairDropReason.VlanTagged));
        Assert.Equal(0, rt.Engine.HandlerFaults);
    }

    /// <summary>router.json's guest: vlan_untag (vlan_id 30) on its primary side. An ARP who-has on VLAN 30 and a frame
    /// to its MAC on VLAN 30 reach it untagged; VLAN 10's and the untagged (native VLAN) ones do not (the program drops
    /// them). A tenant beside it on the same port, on the access port's own LAN, hears the untagged broadcast only.
    /// Without the flooder putting the tag back, VLAN 10's who-has reached both untagged and VLAN 30's reached the
    /// access tenant.</summary>
    [PrivilegedFact]
    public void A_guest_in_VLAN_30_hears_VLAN_30_untagged_and_its_neighbour_on_the_native_LAN_hears_only_untagged_broadcasts()
    {
        using var board = new MetaBoard(ports: 1, tenants: 2);
        const int Guest = 0, Neighbour = 1;
        var untag = new ProgramConfig
        {
            Name = "vlan-30-in",
            Object = "vlan_tag.bpf.o",
            Section = "netkit/primary",
            Maps = new Dictionary<string, IReadOnlyList<MapEntryConfig>>
            {
                [".rodata"] = [new MapEntryConfig { Key = Integer("0"), Value = Integer("30") }],
            },
        };
        var rt = board.Start([board.Port(0)], [board.Pair(Guest, primary: MetaBoard.Side(chain: "vlan-30-in")), board.Pair(Neighbour)], [untag]);
        byte[] outside = board.OutsideMac(0), guest = MetaBoard.TenantMac(Guest).GetBytes();

        byte[] who30 = ArpRequest(outside, "10.50.0.30"), who10 = ArpRequest(outside, "10.50.0.10"), whoUntagged = ArpRequest(outside, "10.50.0.1");
        byte[] to30 = TestFrames.Build(guest, outside, 100, 1), to10 = TestFrames.Build(guest, outside, 100, 2);
        var got = Exchange(board, [TestFrames.Tagged(who30, (0x8100, 30)), TestFrames.Tagged(who10, (0x8100, 10)), whoUntagged,
            TestFrames.Tagged(to30, (0x8100, 30)), TestFrames.Tagged(to10, (0x8100, 10))], Guest, Neighbour);

        AssertSameFrames([who30, to30], got[Guest]);
        AssertSameFrames([whoUntagged], got[Neighbour]);
        Assert.Equal(3, rt.Programs["vlan-30-in"].Counters.Drop); // VLAN 10 twice, the native VLAN's who-has
        Assert.Equal(0, rt.FindPair(board.PairNames[Guest]).Primary.Counters.Drops(PairDropReason.VlanTagged));
        Assert.Equal(2, rt.FindPair(board.PairNames[Neighbour]).Primary.Counters.Drops(PairDropReason.VlanTagged));
    }

    private static MapDatum Integer(string text)
    {
        Assert.True(MapDatum.TryParseInteger(text, out var datum), text);
        return datum;
    }

    private static byte[] ArpRequest(byte[] mac, string target) =>
        TestFrames.ArpRequest(mac, IPAddress.Parse(MetaBoard.OutsideAddress(0)).GetAddressBytes(), IPAddress.Parse(target).GetAddressBytes());

    /// <summary>Sends <paramref name="frames"/> from the outside of port 0 and returns, per tenant, what reached it from
    /// the outside's MAC, as it was on the tenant's wire (tagged or not).</summary>
    private static Dictionary<int, List<byte[]>> Exchange(MetaBoard board, byte[][] frames, params int[] tenants)
    {
        byte[] outside = board.OutsideMac(0);
        var receivers = tenants.ToDictionary(t => t, t => PacketSocket.Open(board.Tenants[t].Name, MetaBoard.TenantInterface, 0x0003, wire: true));
        try
        {
            using (var tx = PacketSocket.Open(board.Outside.Name, MetaBoard.OutsideInterface(0), TestFrames.EtherType))
                foreach (var f in frames) tx.Send(f);
            return receivers.ToDictionary(r => r.Key, r => FrameProbe.Collect(r.Value, int.MaxValue, FrameProbe.Absence * 2)
                .Where(f => f.Length >= 14 && f.AsSpan(6, 6).SequenceEqual(outside)).ToList());
        }
        finally
        {
            foreach (var r in receivers.Values) r.Dispose();
        }
    }

    private static void AssertSameFrames(IEnumerable<byte[]> expected, IEnumerable<byte[]> got) =>
        Assert.Equal(expected.Select(Convert.ToHexString).Order(), got.Select(Convert.ToHexString).Order());
}
