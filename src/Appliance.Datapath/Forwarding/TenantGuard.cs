using System.Runtime.CompilerServices;
using Appliance.Bpf.Routing;
using Appliance.Config;
using Appliance.Datapath.Runtime;

namespace Appliance.Datapath.Forwarding;

/// <summary>The checks on what an L2 tenant sends, wherever its peer side lets it go: out of a board port (passed to
/// the uplink, or redirected to a port) or into another pair's tenant (redirected to a pair's primary end). A frame
/// is judged the same either way, as a switch judges what a host port sends whatever port it leaves by: a VLAN tag the
/// tenant put on itself when it does not trunk VLANs (a priority tag alone names none; an access port's frames are
/// untagged: a tagged one would enter
/// the VLAN it names on a trunk upstream — the board's management VLAN, another tenant's — and a tag behind a tag its
/// chain pushes would hop out of that one), a message only a router or DHCP server sends that the tenant does not
/// serve (<see cref="ServiceGuard"/>), then a source or a claim that is not the tenant's (<see cref="AddressGuard"/>,
/// which records the claims of what it lets out), a DHCP client identity beyond the tenant's share among them
/// (<see cref="DhcpClientIds"/>: a new identifier each time would lease the LAN's pool dry). What goes into a tenant
/// that does not trunk VLANs carries no tag (<see cref="RefusesIntoTenant"/>). Into a pair, the frame is judged as sent
/// on that pair's uplink: the LAN its tenant is on (the claims recorded there, the L3 prefixes routed there). Nothing
/// allocates.</summary>
public sealed class TenantGuard(IFibTables? tables)
{
    private readonly AddressGuard _addresses = new(tables);

    /// <summary>Why <paramref name="frame"/>, which L2 pair <paramref name="pair"/> (uplink <paramref name="uplink"/>)
    /// lets out towards board port <paramref name="port"/> (where it goes out, or the uplink of the pair it goes into),
    /// is refused; null when it may go. <paramref name="chainTagged"/>: the frame's outermost tag is one its chain
    /// pushed (offloaded, written in at transmit), not the tenant's.</summary>
    public PairDropReason? Judge(ReadOnlySpan<byte> frame, PairRuntime pair, PortRuntime uplink, PortRuntime port, RuntimeTopology topology,
        bool chainTagged = false)
    {
        if (!pair.TrunksVlans && TenantTagged(frame, chainTagged)) return PairDropReason.VlanTagged;
        if (ServiceGuard.Refuses(frame, pair)) return PairDropReason.RogueService;
        if (_addresses.Refuses(frame, pair, uplink, port, topology)) return PairDropReason.InvalidSource;
        return null;
    }

    /// <summary>Whether <paramref name="frame"/>, as the last chain left it (an offloaded tag written in), may not go
    /// into the tenant of <paramref name="into"/>: it still names a VLAN (<see cref="L3Frames.NamesVlan"/>: an 802.1Q or
    /// 802.1ad tag; a priority tag alone does not) and the tenant does not trunk VLANs. A switch's access port hands its
    /// host only the frames of its own VLAN; a tagged one — from the wire, to the tenant's MAC or flooded, or tagged by a
    /// chain — belongs to a VLAN the tenant is not on (a chain takes the tag of the tenant's VLAN off, as vlan_untag
    /// does). A priority-tagged frame is in the port's own VLAN (802.1Q), as an untagged one, and goes in as it came,
    /// its 802.1p priority kept. An L3 tenant never trunks and gets no tag at all, a priority tag neither: its pair
    /// routes untagged frames only, both ways (<see cref="L3Router"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool RefusesIntoTenant(ReadOnlySpan<byte> frame, PairRuntime into) =>
        !into.TrunksVlans && (into.Config.Mode == PairMode.L3 ? L3Frames.Tagged(frame) : L3Frames.NamesVlan(frame));

    /// <summary>Whether the frame names a VLAN (<see cref="L3Frames.NamesVlan"/>) by a tag the tenant put on: its
    /// outermost one, or the one behind the tag its chain pushed. A priority tag alone is the tenant's 802.1p priority
    /// on its own LAN: upstream puts the frame in the uplink's untagged VLAN, as an access port does.</summary>
    private static bool TenantTagged(ReadOnlySpan<byte> frame, bool chainTagged) => L3Frames.NamesVlan(frame, chainTagged ? 16 : 12);
}
