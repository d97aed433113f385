using System.Buffers.Binary;
using static Appliance.Interop.NetlinkConstants;

namespace Appliance.Interop;

/// <summary>One received netlink message: header fields and the payload after the nlmsghdr.</summary>
public readonly ref struct NetlinkMessage
{
    public ushort Type { get; init; }
    public ushort Flags { get; init; }
    public uint Sequence { get; init; }
    public uint PortId { get; init; }
    public ReadOnlySpan<byte> Payload { get; init; }
}

/// <summary>Walks the messages of one recv() buffer, stopping at the first malformed length.</summary>
public ref struct NetlinkMessageReader(ReadOnlySpan<byte> buffer)
{
    private ReadOnlySpan<byte> _rest = buffer;

    /// <summary>Once <see cref="TryRead"/> has returned false: true when it stopped at bytes that are no whole
    /// message (a length below the header or past the datagram, a cut-off header), false at the datagram's end.</summary>
    public readonly bool Malformed => !_rest.IsEmpty;

    public bool TryRead(out NetlinkMessage message)
    {
        message = default;
        if (_rest.Length < HeaderSize) return false;
        int len = (int)BinaryPrimitives.ReadUInt32LittleEndian(_rest);
        if (len < HeaderSize || len > _rest.Length) return false;
        message = new NetlinkMessage
        {
            Type = BinaryPrimitives.ReadUInt16LittleEndian(_rest[4..]),
            Flags = BinaryPrimitives.ReadUInt16LittleEndian(_rest[6..]),
            Sequence = BinaryPrimitives.ReadUInt32LittleEndian(_rest[8..]),
            PortId = BinaryPrimitives.ReadUInt32LittleEndian(_rest[12..]),
            Payload = _rest[HeaderSize..len],
        };
        _rest = _rest[Math.Min(Align(len), _rest.Length)..];
        return true;
    }
}
