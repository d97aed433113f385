using System.Text.Json.Serialization;

namespace Appliance.Config;

/// <summary>A service an L2 tenant may offer the hosts of its uplink's LAN (<see cref="TenantConfig.Serves"/>). Hosts
/// believe whoever sends these messages, so by default a tenant is a host and its peer side drops them (a switch's RA
/// guard and DHCP snooping on a host port); and, as a switch's access port, it sends untagged frames only.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<TenantService>))]
public enum TenantService
{
    /// <summary>The tenant is a router: it may send IPv6 router advertisements and redirects, ICMPv4 redirects and
    /// router advertisements.</summary>
    [JsonStringEnumMemberName("router")] Router,

    /// <summary>The tenant is a DHCP server or relay agent: it may send DHCPv4 and DHCPv6 server and relay messages.</summary>
    [JsonStringEnumMemberName("dhcp")] Dhcp,

    /// <summary>The tenant trunks VLANs: it may send frames it tagged itself (802.1Q, 802.1ad), which a switch upstream
    /// puts into the VLAN the tag names, and it receives tagged frames as they came (a tenant that does not trunk
    /// gets none: its primary side drops a frame still tagged after its chain).</summary>
    [JsonStringEnumMemberName("vlans")] Vlans,
}
