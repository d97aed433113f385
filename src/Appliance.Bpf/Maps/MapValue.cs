namespace Appliance.Bpf.Maps;

/// <summary>Where a map value lives: <see cref="Count"/> bytes of a managed array from <see cref="Origin"/> on, or at
/// the native address <see cref="Origin"/> when <see cref="Array"/> is null (a hash reserved with BPF_F_NO_PREALLOC,
/// see <see cref="MapStorage"/>). Either way the storage itself, never a copy, and it does not move.</summary>
public readonly unsafe struct MapValue
{
    public MapValue(byte[] array, int offset, int count)
    {
        Array = array;
        Origin = offset;
        Count = count;
    }

    public MapValue(nint address, int count)
    {
        Origin = address;
        Count = count;
    }

    /// <summary>The managed array holding the value, or null for native storage.</summary>
    public byte[]? Array { get; }

    /// <summary>The offset in <see cref="Array"/>, or the native address.</summary>
    public nint Origin { get; }

    public int Count { get; }

    public Span<byte> AsSpan() => Array is not null ? Array.AsSpan((int)Origin, Count) : new Span<byte>((void*)Origin, Count);

    public Span<byte> AsSpan(int start) => AsSpan()[start..];

    public Span<byte> AsSpan(int start, int length) => AsSpan().Slice(start, length);

    public byte[] ToArray() => AsSpan().ToArray();

    public static implicit operator ReadOnlySpan<byte>(MapValue value) => value.AsSpan();

    public static implicit operator MapValue(ArraySegment<byte> segment) =>
        segment.Array is null ? default : new MapValue(segment.Array, segment.Offset, segment.Count);
}
