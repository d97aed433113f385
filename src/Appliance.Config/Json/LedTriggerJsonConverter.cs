using System.Text.Json;
using System.Text.Json.Serialization;

namespace Appliance.Config;

/// <summary>Reads and writes <see cref="LedTrigger"/> as "kind" or "kind:target".</summary>
public sealed class LedTriggerJsonConverter : JsonConverter<LedTrigger>
{
    public override LedTrigger Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String && LedTrigger.TryParse(reader.GetString()!, out var trigger)
            ? trigger
            : throw new JsonException($"expected {LedTrigger.Expected}");

    public override void Write(Utf8JsonWriter writer, LedTrigger value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToString());
}
