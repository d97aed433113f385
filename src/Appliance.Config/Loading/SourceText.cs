namespace Appliance.Config;

/// <summary>A config file's UTF-8 bytes (BOM removed) with a line table to turn byte offsets into 1-based line/column.</summary>
internal sealed class SourceText
{
    private readonly int[] _lineStarts;

    public SourceText(string fileName, ReadOnlyMemory<byte> utf8)
    {
        FileName = fileName;
        Utf8 = utf8;
        var starts = new List<int> { 0 };
        var span = utf8.Span;
        for (int i = 0; i < span.Length; i++)
            if (span[i] == (byte)'\n') starts.Add(i + 1);
        _lineStarts = [.. starts];
    }

    public string FileName { get; }

    public ReadOnlyMemory<byte> Utf8 { get; }

    /// <summary>1-based line and column (in characters, a tab counts one) of a byte offset.</summary>
    public SourcePosition PositionOf(long byteOffset)
    {
        int offset = (int)Math.Clamp(byteOffset, 0, Utf8.Length);
        int line = Array.BinarySearch(_lineStarts, offset);
        if (line < 0) line = ~line - 1;
        return new SourcePosition(line + 1, CharactersBetween(_lineStarts[line], offset) + 1);
    }

    /// <summary>Position from a 0-based line and 0-based byte position in that line (as JsonException reports).</summary>
    public SourcePosition PositionOf(long line, long bytePositionInLine)
    {
        int index = (int)Math.Clamp(line, 0, _lineStarts.Length - 1);
        return PositionOf(_lineStarts[index] + bytePositionInLine);
    }

    public SourcePosition End => PositionOf(Utf8.Length);

    private int CharactersBetween(int start, int end)
    {
        var span = Utf8.Span[start..end];
        int count = 0;
        foreach (byte b in span)
            if ((b & 0xC0) != 0x80) count++;
        return count;
    }
}
