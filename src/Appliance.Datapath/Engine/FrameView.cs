using System.Runtime.CompilerServices;

namespace Appliance.Datapath.Engine;

/// <summary>One received frame inside its UMEM chunk, as a decision sees it: the data, its length, and the room
/// around it. The head can move into the headroom (push a VLAN tag or an encapsulation) or forward (pop one),
/// and the tail can grow into the tailroom or shrink, like bpf_xdp_adjust_head/tail; whatever the view holds
/// when the decision returns is what gets transmitted.</summary>
public unsafe ref struct FrameView
{
    private readonly byte* _chunk;
    private readonly uint _chunkSize;
    private uint _offset;
    private uint _length;

    /// <summary>The port the frame arrived on.</summary>
    public int IngressPort { get; }

    internal FrameView(byte* chunk, uint chunkSize, uint offset, uint length, int ingressPort)
    {
        _chunk = chunk;
        _chunkSize = chunkSize;
        _offset = offset;
        _length = length;
        IngressPort = ingressPort;
    }

    public readonly int Length => (int)_length;
    /// <summary>Bytes in front of the data inside the chunk.</summary>
    public readonly int Headroom => (int)_offset;
    /// <summary>Bytes after the data inside the chunk.</summary>
    public readonly int Tailroom => (int)(_chunkSize - _offset - _length);
    public readonly byte* DataPointer => _chunk + _offset;
    public readonly Span<byte> Data
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => new(_chunk + _offset, (int)_length);
    }

    /// <summary>Offset of the data from the chunk start (what the TX descriptor will carry).</summary>
    internal readonly uint Offset => _offset;

    /// <summary>Moves the start of the data by <paramref name="delta"/> bytes: negative grows the frame into the
    /// headroom, positive removes bytes from the front. False (and no change) if that leaves the chunk or the
    /// frame shorter than an Ethernet header.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool AdjustHead(int delta)
    {
        long offset = (long)_offset + delta, length = (long)_length - delta;
        if (offset < 0 || length < 14 || offset + length > _chunkSize) return false;
        _offset = (uint)offset;
        _length = (uint)length;
        return true;
    }

    /// <summary>Grows (positive) or shrinks (negative) the end of the frame. False (and no change) if that leaves
    /// the chunk or the frame shorter than an Ethernet header.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool AdjustTail(int delta)
    {
        long length = (long)_length + delta;
        if (length < 14 || _offset + length > _chunkSize) return false;
        _length = (uint)length;
        return true;
    }
}
