using System.Text;
using System.Text.Unicode;

namespace Appliance.Config;

/// <summary>Checks a file's bytes before JSON parsing: size, encoding (UTF-8, optional BOM), emptiness.</summary>
internal static class SourceDecoder
{
    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    /// <summary>Returns the source text, or null with the error added to <paramref name="errors"/>.</summary>
    public static SourceText? Decode(string fileName, byte[] bytes, List<ConfigError> errors)
    {
        ConfigError FileError(SourcePosition at, string message) => new(fileName, at.Line, at.Column, "$", message);

        if (bytes.Length > ConfigLimits.MaxFileBytes)
        {
            errors.Add(FileError(SourcePosition.Start,
                $"file is {bytes.Length} bytes; a config may be at most {ConfigLimits.MaxFileBytes} bytes ({ConfigLimits.MaxFileBytes / (1024 * 1024)} MiB)"));
            return null;
        }
        string? wrongEncoding = DetectNonUtf8Encoding(bytes);
        if (wrongEncoding is not null)
        {
            errors.Add(FileError(SourcePosition.Start, $"file is encoded as {wrongEncoding}; save it as UTF-8 (with or without BOM)"));
            return null;
        }
        int start = bytes.AsSpan().StartsWith(Utf8Bom) ? Utf8Bom.Length : 0;
        var text = new SourceText(fileName, bytes.AsMemory(start));
        var span = text.Utf8.Span;
        if (!Utf8.IsValid(span))
        {
            int bad = FirstInvalidUtf8Byte(span);
            errors.Add(FileError(text.PositionOf(bad), $"invalid UTF-8 (byte 0x{span[bad]:X2} at offset {bad + start}); save the file as UTF-8"));
            return null;
        }
        if (span.Trim(" \t\r\n"u8).IsEmpty)
        {
            errors.Add(FileError(SourcePosition.Start, "file is empty; expected a JSON object like { \"board\": \"qemu-virt\", ... }"));
            return null;
        }
        return text;
    }

    private static string? DetectNonUtf8Encoding(ReadOnlySpan<byte> b)
    {
        if (b.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE, 0x00, 0x00])) return "UTF-32 (little-endian BOM)";
        if (b.StartsWith((ReadOnlySpan<byte>)[0x00, 0x00, 0xFE, 0xFF])) return "UTF-32 (big-endian BOM)";
        if (b.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE])) return "UTF-16 (little-endian BOM)";
        if (b.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF])) return "UTF-16 (big-endian BOM)";
        // UTF-16 without BOM: JSON text starts with an ASCII character, so one of the first two bytes is 0.
        if (b.Length >= 2 && (b[0] == 0) != (b[1] == 0)) return b[0] == 0 ? "UTF-16 (big-endian, no BOM)" : "UTF-16 (little-endian, no BOM)";
        return null;
    }

    private static int FirstInvalidUtf8Byte(ReadOnlySpan<byte> span)
    {
        var chars = new char[span.Length];
        Utf8.ToUtf16(span, chars, out int read, out _, replaceInvalidSequences: false);
        return read;
    }
}
