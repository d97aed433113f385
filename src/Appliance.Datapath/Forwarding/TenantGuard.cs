using Appliance.Bpf.Routing;
using Appliance.Datapath.Runtime;

namespace Appliance.Datapath.Forwarding;

/// <summary>The checks on what an L2 tenant sends, wherever its peer side lets it go: out of a board port (passed to
/// the uplink, or redirected to a port) or into another pair's tenant (redirected to a pair's primary end). A frame
/// is judged the same either way, as a switch judges what a host port sends whatever port it leaves by: a message
/// only a router or DHCP server sends that the tenant does not serve (<see cref="ServiceGuard"/>), then a source or
/// a claim that is not the tenant's (<see cref="AddressGuard"/>, which records the claims of what it lets out, so it
/// has the last word). Into a pair, the frame is judged as sent on that pair's uplink: the LAN its tenant is on (the
/// claims recorded there, the L3 prefixes routed there). Nothing allocates.</summary>
public sealed class TenantGuard(IFibTables? tables)
{
    private readonly AddressGuard _addresses = new(tables);

    /// <summary>Why <paramref name="frame"/>, which L2 pair <paramref name="pair"/> (uplink <paramref name="uplink"/>)
    /// lets out towards board port <paramref name="port"/> (where it goes out, or the uplink of the pair it goes into),
    /// is refused; null when it may go.</summary>
    public PairDropReason? Judge(ReadOnlySpan<byte> frame, PairRuntime pair, PortRuntime uplink, PortRuntime port, RuntimeTopology topology)
    {
        if (ServiceGuard.Refuses(frame, pair)) return PairDropReason.RogueService;
        if (_addresses.Refuses(frame, pair, uplink, port, topology)) return PairDropReason.InvalidSource;
        return null;
    }
}
