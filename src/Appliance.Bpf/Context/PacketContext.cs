using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Appliance.Bpf.Context;

/// <summary>One frame as a tc program sees it: a buffer (a managed array, or unmanaged memory such as an
/// AF_XDP UMEM frame, never copied) of <see cref="Capacity"/> bytes holding the packet at
/// [<see cref="DataOffset"/>, <see cref="DataOffset"/> + <see cref="Length"/>), with headroom before it and
/// tailroom after it for <c>skb_change_head</c>, <c>skb_adjust_room</c>, <c>skb_change_tail</c> and VLAN
/// pushes; plus the <c>__sk_buff</c> metadata that travels with the frame. A run takes it by <c>ref</c> and
/// leaves the program's changes in it (new data offset/length, mark, priority, tc_index, cb, VLAN offload
/// tag). A value type with no per-packet allocation: the datapath re-points it at each frame.
/// VLAN: like the kernel, <c>skb_vlan_push</c> sets an offloaded tag (<see cref="VlanPresent"/>,
/// <see cref="VlanTci"/>, <see cref="VlanProto"/>) rather than writing bytes; whoever transmits the frame
/// must insert it. In-band tags stay in the bytes and <see cref="Protocol"/> is then 0x8100/0x88a8.</summary>
public unsafe struct PacketContext
{
    private byte[]? _array;
    private int _arrayOffset;
    private byte* _pointer;

    /// <summary>The longest frame a helper may make (the kernel's BPF_SKB_MAX_LEN = SKB_MAX_ALLOC: 16 KiB less
    /// the 320-byte skb_shared_info, on x86-64 and arm64 with 4 KiB pages). A buffer smaller than that limits
    /// growth further (-ENOMEM).</summary>
    public const int MaxLength = 16064;

    /// <summary>Total bytes of the buffer (headroom + packet + tailroom).</summary>
    public int Capacity { get; private set; }

    /// <summary>Where the packet starts in the buffer (= headroom).</summary>
    public int DataOffset { get; private set; }

    /// <summary>Packet length in bytes, L2 header included (<c>skb->len</c>).</summary>
    public int Length { get; private set; }

    public uint Mark;
    public uint Priority;
    public uint TcIndex;
    public uint QueueMapping;
    public uint PacketType;
    public uint Hash;
    public uint TcClassId;
    public uint Ifindex;
    public uint IngressIfindex;
    public ulong Tstamp;

    /// <summary>EtherType of the packet in host order (0x0800, 0x86dd, 0x8100 …), as <see cref="ProtocolOf"/> derives it
    /// from the frame; programs read it in network order.</summary>
    public ushort Protocol;

    /// <summary>skb->protocol as the kernel's eth_type_trans derives it from a frame: the EtherType from 0x0600 up;
    /// below that (an 802.3 length) <see cref="Ieee8023"/> when the payload starts 0xFFFF (raw 802.3, IPX), else
    /// <see cref="Ieee8022"/> (LLC); 0 for a frame shorter than an Ethernet header.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort ProtocolOf(ReadOnlySpan<byte> frame) =>
        frame.Length < 14 ? (ushort)0 : EncapsulatedProtocol((ushort)(frame[12] << 8 | frame[13]), frame[14..]);

    /// <summary>The protocol of a payload behind a type/length field (eth_type_trans, vlan_set_encap_proto).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ushort EncapsulatedProtocol(ushort typeOrLength, ReadOnlySpan<byte> payload) =>
        typeOrLength >= 0x0600 ? typeOrLength
        : payload.Length >= 2 && payload[0] == 0xff && payload[1] == 0xff ? Ieee8023 : Ieee8022;

    /// <summary>ETH_P_802_3 and ETH_P_802_2: the protocols of frames whose type field is a length.</summary>
    public const ushort Ieee8023 = 0x0001, Ieee8022 = 0x0004;

    public bool VlanPresent;
    public ushort VlanTci;

    /// <summary>Host order (0x8100 or 0x88a8).</summary>
    public ushort VlanProto;

    public ControlBlock Cb;

    /// <summary>A frame in a managed array: the whole array is the buffer.</summary>
    public static PacketContext FromArray(byte[] buffer, int dataOffset, int length) =>
        FromArray(buffer, 0, buffer.Length, dataOffset, length);

    /// <summary>A frame in <paramref name="buffer"/>[<paramref name="bufferOffset"/>, +<paramref name="capacity"/>).</summary>
    public static PacketContext FromArray(byte[] buffer, int bufferOffset, int capacity, int dataOffset, int length)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        ArgumentOutOfRangeException.ThrowIfNegative(bufferOffset);
        if ((uint)capacity > (uint)(buffer.Length - bufferOffset)) throw new ArgumentOutOfRangeException(nameof(capacity));
        var ctx = new PacketContext { _array = buffer, _arrayOffset = bufferOffset, Capacity = capacity };
        ctx.SetData(dataOffset, length);
        return ctx;
    }

    /// <summary>This context becomes a frame in unmanaged memory (e.g. a UMEM chunk) that stays valid and pinned for
    /// the run, in place, with all metadata zero: a datapath that keeps one context per worker starts each frame
    /// without copying a new one in.</summary>
    public void Reset(byte* buffer, int capacity, int dataOffset, int length)
    {
        if (buffer == null) throw new ArgumentNullException(nameof(buffer));
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        this = default;
        _pointer = buffer;
        Capacity = capacity;
        SetData(dataOffset, length);
    }

    /// <summary>Re-points the packet inside the same buffer (e.g. after the datapath strips a header).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetData(int dataOffset, int length)
    {
        if (dataOffset < 0 || length < 0 || (long)dataOffset + length > Capacity) ThrowDoesNotFit(dataOffset, length, Capacity);
        DataOffset = dataOffset;
        Length = length;
    }

    [DoesNotReturn]
    private static void ThrowDoesNotFit(int dataOffset, int length, int capacity) =>
        throw new ArgumentOutOfRangeException(nameof(length), $"packet [{dataOffset}, +{length}) does not fit the {capacity}-byte buffer");

    /// <summary>Moves the packet's extent inside the buffer (helpers check the bounds first).</summary>
    internal void MoveData(int newDataOffset, int newLength)
    {
        DataOffset = newDataOffset;
        Length = newLength;
    }

    /// <summary>Makes at least <paramref name="front"/> bytes of headroom and <paramref name="back"/> bytes of
    /// tailroom, moving the packet inside the buffer when one side is short and the other has spare room (the
    /// kernel reallocates instead). False when the buffer is too small for both.</summary>
    internal bool TryMakeRoom(int front, int back)
    {
        if ((long)front + Length + back > Capacity) return false;
        if (Headroom >= front && Tailroom >= back) return true;
        int newOffset = Headroom < front ? front : Capacity - back - Length;
        Buffer.Slice(DataOffset, Length).CopyTo(Buffer.Slice(newOffset, Length));
        DataOffset = newOffset;
        return true;
    }

    public readonly int Headroom => DataOffset;
    public readonly int Tailroom => Capacity - DataOffset - Length;

    /// <summary>The whole buffer.</summary>
    public readonly Span<byte> Buffer
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _array is not null
            ? _array.AsSpan(_arrayOffset, Capacity)
            : new Span<byte>(_pointer, Capacity);
    }

    /// <summary>The packet bytes (data .. data_end).</summary>
    public readonly Span<byte> Data
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Buffer.Slice(DataOffset, Length);
    }

    internal readonly byte[]? BackingArray => _array;
    internal readonly int BackingArrayOffset => _arrayOffset;
    internal readonly byte* BackingPointer => _pointer;

    internal readonly ref byte BufferStart => ref _array is not null
        ? ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_array), _arrayOffset)
        : ref Unsafe.AsRef<byte>(_pointer);
}
