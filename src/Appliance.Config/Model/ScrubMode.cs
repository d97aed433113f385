using System.Text.Json.Serialization;

namespace Appliance.Config;

/// <summary>netkit scrub: whether mark/priority set by the other side are cleared before this side's chain.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ScrubMode>))]
public enum ScrubMode
{
    /// <summary>Clear mark and priority (NETKIT_SCRUB_DEFAULT).</summary>
    [JsonStringEnumMemberName("default")] Default,

    /// <summary>Keep them (NETKIT_SCRUB_NONE).</summary>
    [JsonStringEnumMemberName("none")] None,
}
