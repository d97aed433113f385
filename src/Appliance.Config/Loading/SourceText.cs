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

    /// <summary>1-based line and column (in characters, a tab counts one) of a byte offset. The parser asks in
    /// increasing order, so the last answer is the starting point when it is on the same line: a file written
    /// on one long line costs linear time, not a scan from the line's start per token.</summary>
    public SourcePosition PositionOf(long byteOffset)
    {
        int offset = (int)Math.Clamp(byteOffset, 0, Utf8.Length);
        int line = Array.BinarySearch(_lineStarts, offset);
        if (line < 0) line = ~line - 1;
        int from = _lineStarts[line], characters = 0;
        if (_lastLine == line && _lastOffset <= offset)
        {
            from = _lastOffset;
            characters = _lastCharacters;
        }
        characters += CharactersBetween(from, offset);
        (_lastLine, _lastOffset, _lastCharacters) = (line, offset, characters);
        return new SourcePosition(line + 1, characters + 1);
    }

    private int _lastLine = -1, _lastOffset, _lastCharacters;

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
