using System.Text.Json.Serialization;

namespace Appliance.Config;

/// <summary>Global LED switch.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<LedState>))]
public enum LedState
{
    [JsonStringEnumMemberName("on")] On,
    [JsonStringEnumMemberName("off")] Off,
}
