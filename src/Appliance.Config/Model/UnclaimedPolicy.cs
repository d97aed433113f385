using System.Text.Json.Serialization;

namespace Appliance.Config;

/// <summary>Fate of a port's frames that no pair claims.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<UnclaimedPolicy>))]
public enum UnclaimedPolicy
{
    /// <summary>Left to the board's own network stack (SSH to the board keeps working).</summary>
    [JsonStringEnumMemberName("kernel")] Kernel,

    /// <summary>Dropped and counted.</summary>
    [JsonStringEnumMemberName("drop")] Drop,
}
