using System.Text.Json;
using System.Text.Json.Serialization;

namespace Appliance.Config;

/// <summary>Reads and writes <see cref="InterfaceAddress"/> as "address/length".</summary>
public sealed class InterfaceAddressJsonConverter : JsonConverter<InterfaceAddress>
{
    public override InterfaceAddress Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String && InterfaceAddress.TryParse(reader.GetString()!, out var address)
            ? address
            : throw new JsonException($"expected {InterfaceAddress.Expected}");

    public override void Write(Utf8JsonWriter writer, InterfaceAddress value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToString());
}
