namespace Appliance.Bpf.Objects;

/// <summary>What <see cref="Inflater"/> unpacks, in one buffer that grows as needed up to a bound: a write past it
/// is refused (<see cref="GzipException.TooLarge"/>) before any memory for it is taken, so a gzip bomb costs at most the
/// bound.</summary>
internal sealed class InflateOutput(int limit)
{
    private byte[] _data = new byte[Math.Min(limit, 64 << 10)];

    public int Length { get; private set; }

    /// <summary>The bytes written since <paramref name="start"/> (a member's, for its CRC-32).</summary>
    public ReadOnlySpan<byte> Since(int start) => _data.AsSpan(start, Length - start);

    public byte[] ToArray() => _data.AsSpan(0, Length).ToArray();

    public void Add(byte value)
    {
        if (Length == _data.Length) Reserve(1);
        _data[Length++] = value;
    }

    public void Add(ReadOnlySpan<byte> bytes)
    {
        Reserve(bytes.Length);
        bytes.CopyTo(_data.AsSpan(Length));
        Length += bytes.Length;
    }

    /// <summary>Repeats the <paramref name="length"/> bytes that start <paramref name="distance"/> back (1 ≤ distance ≤
    /// Length, checked by the caller); they may overlap what this writes, which then repeats.</summary>
    public void Copy(int distance, int length)
    {
        Reserve(length);
        int from = Length - distance;
        if (distance >= length)
            _data.AsSpan(from, length).CopyTo(_data.AsSpan(Length));
        else
            for (int i = 0; i < length; i++) _data[Length + i] = _data[from + i];
        Length += length;
    }

    private void Reserve(int count)
    {
        if (count <= _data.Length - Length) return;
        if (count > limit - Length)
            throw new GzipException($"it unpacks to more than {limit} bytes (a bound of the caller's)", tooLarge: true);
        int size = (int)Math.Min(limit, Math.Max((long)_data.Length * 2, (long)Length + count));
        Array.Resize(ref _data, size);
    }
}
