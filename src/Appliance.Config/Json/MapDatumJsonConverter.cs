using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Appliance.Config;

/// <summary>Reads a <see cref="MapDatum"/> from a hex string or an integer; writes it back the same way.</summary>
public sealed class MapDatumJsonConverter : JsonConverter<MapDatum>
{
    public override MapDatum Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String && MapDatum.TryParseHex(reader.GetString()!, out var hex, out _))
            return hex;
        if (reader.TokenType == JsonTokenType.Number)
        {
            string text = Encoding.UTF8.GetString(reader.HasValueSequence ? System.Buffers.BuffersExtensions.ToArray(reader.ValueSequence) : reader.ValueSpan.ToArray());
            if (MapDatum.TryParseInteger(text, out var integer)) return integer;
        }
        throw new JsonException($"expected {MapDatum.Expected}");
    }

    public override void Write(Utf8JsonWriter writer, MapDatum value, JsonSerializerOptions options)
    {
        if (value.Hex is not null) writer.WriteStringValue(value.Hex);
        else writer.WriteRawValue(value.Integer!.Value.ToString(CultureInfo.InvariantCulture));
    }
}
