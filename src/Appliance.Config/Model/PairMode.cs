using System.Text.Json.Serialization;

namespace Appliance.Config;

/// <summary>netkit's pair mode.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<PairMode>))]
public enum PairMode
{
    /// <summary>Tenant has a MAC; frames are forwarded unchanged; ARP works end to end.</summary>
    [JsonStringEnumMemberName("l2")] L2,

    /// <summary>Tenant interface is NOARP; the appliance answers ARP/ND and writes Ethernet headers.</summary>
    [JsonStringEnumMemberName("l3")] L3,
}
