using System.Text.Json;
using System.Text.Json.Serialization;

namespace Appliance.Config;

/// <summary>Reads and writes <see cref="MacAddress"/> as its string form.</summary>
public sealed class MacAddressJsonConverter : JsonConverter<MacAddress>
{
    public override MacAddress Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String && MacAddress.TryParse(reader.GetString()!, out var mac)
            ? mac
            : throw new JsonException($"expected {MacAddress.Expected}");

    public override void Write(Utf8JsonWriter writer, MacAddress value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToString());
}
