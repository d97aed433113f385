using System.Text.Json;

namespace Appliance.Config;

/// <summary>Writes a located JSON tree (the sound part of a file) back to UTF-8 JSON for the source-generated deserializer.</summary>
internal static class SoundTreeWriter
{
    public static byte[] ToUtf8(JsonSyntaxNode root)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { MaxDepth = ConfigLimits.MaxDepth + 1 }))
            Write(root, writer);
        return buffer.ToArray();
    }

    private static void Write(JsonSyntaxNode node, Utf8JsonWriter writer)
    {
        switch (node.Kind)
        {
            case JsonSyntaxKind.Object:
                writer.WriteStartObject();
                foreach (var member in node.Members)
                {
                    writer.WritePropertyName(member.Name);
                    Write(member.Value, writer);
                }
                writer.WriteEndObject();
                break;
            case JsonSyntaxKind.Array:
                writer.WriteStartArray();
                foreach (var item in node.Items) Write(item, writer);
                writer.WriteEndArray();
                break;
            case JsonSyntaxKind.String: writer.WriteStringValue(node.Text); break;
            case JsonSyntaxKind.Number: writer.WriteRawValue(node.Text!); break;
            case JsonSyntaxKind.True: writer.WriteBooleanValue(true); break;
            case JsonSyntaxKind.False: writer.WriteBooleanValue(false); break;
            default: writer.WriteNullValue(); break;
        }
    }
}
