using System.Text.Json.Serialization;

namespace Appliance.Config;

/// <summary>Default verdict of a pair side when its chain is empty (netkit forward/blackhole).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<SidePolicy>))]
public enum SidePolicy
{
    /// <summary>netkit "forward" (NETKIT_PASS).</summary>
    [JsonStringEnumMemberName("pass")] Pass,

    /// <summary>netkit "blackhole" (NETKIT_DROP).</summary>
    [JsonStringEnumMemberName("drop")] Drop,
}
