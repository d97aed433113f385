using System.Buffers.Binary;
using System.Text;
using static Appliance.Interop.NetlinkConstants;

namespace Appliance.Interop;

/// <summary>Builds one netlink message in a caller-supplied buffer: the nlmsghdr, a fixed family header
/// (ifinfomsg, ifaddrmsg), then 4-byte aligned attributes, nested ones included. The sequence number is
/// filled in by <see cref="NetlinkSocket.Transact"/>. Host byte order, as netlink expects.</summary>
public ref struct NetlinkWriter
{
    private readonly Span<byte> _buffer;
    private int _length;

    /// <summary>Starts a message of <paramref name="type"/> with <paramref name="flags"/> (NLM_F_*).</summary>
    public NetlinkWriter(Span<byte> buffer, ushort type, ushort flags)
    {
        _buffer = buffer;
        _length = 0;
        var header = Reserve(HeaderSize);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], type);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], flags);
    }

    /// <summary>Bytes written so far (the message length once finished).</summary>
    public readonly int Length => _length;

    /// <summary>Appends a struct ifinfomsg.</summary>
    public void WriteIfInfo(int index, uint flags = 0, uint change = 0, byte family = 0)
    {
        var s = Reserve(NetlinkRoute.IfInfoSize);
        s[0] = family;
        BinaryPrimitives.WriteInt32LittleEndian(s[4..], index);
        BinaryPrimitives.WriteUInt32LittleEndian(s[8..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(s[12..], change);
    }

    /// <summary>Appends a struct ifaddrmsg.</summary>
    public void WriteIfAddr(byte family, byte prefixLength, int index, byte scope = NetlinkRoute.RT_SCOPE_UNIVERSE)
    {
        var s = Reserve(NetlinkRoute.IfAddrSize);
        s[0] = family;
        s[1] = prefixLength;
        s[3] = scope;
        BinaryPrimitives.WriteInt32LittleEndian(s[4..], index);
    }

    /// <summary>Appends a struct rtmsg.</summary>
    public void WriteRtMsg(byte family, byte dstLength, byte table, byte protocol, byte scope, byte type)
    {
        var s = Reserve(NetlinkRoute.RtMsgSize);
        s[0] = family;
        s[1] = dstLength;
        s[4] = table;
        s[5] = protocol;
        s[6] = scope;
        s[7] = type;
    }

    /// <summary>Appends a struct ndmsg.</summary>
    public void WriteNdMsg(byte family, int index, ushort state = 0, byte flags = 0)
    {
        var s = Reserve(NetlinkRoute.NdMsgSize);
        s[0] = family;
        BinaryPrimitives.WriteInt32LittleEndian(s[4..], index);
        BinaryPrimitives.WriteUInt16LittleEndian(s[8..], state);
        s[10] = flags;
    }

    /// <summary>Appends a struct netconfmsg (the family; padded to 4 bytes).</summary>
    public void WriteNetconf(byte family) => Reserve(NetlinkRoute.NetconfMsgSize)[0] = family;

    public void PutBytes(ushort type, scoped ReadOnlySpan<byte> value)
    {
        var s = Reserve(AttributeHeaderSize + value.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(s, (ushort)(AttributeHeaderSize + value.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(s[2..], type);
        value.CopyTo(s[AttributeHeaderSize..]);
    }

    public void PutU32(ushort type, uint value)
    {
        Span<byte> v = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(v, value);
        PutBytes(type, v);
    }

    public void PutS32(ushort type, int value) => PutU32(type, unchecked((uint)value));

    /// <summary>A NUL-terminated string attribute (NLA_STRING / NLA_NUL_STRING both accept it).</summary>
    public void PutString(ushort type, string value)
    {
        Span<byte> v = stackalloc byte[Encoding.UTF8.GetByteCount(value) + 1];
        Encoding.UTF8.GetBytes(value, v);
        v[^1] = 0;
        PutBytes(type, v);
    }

    /// <summary>Opens a nested attribute (NLA_F_NESTED set); close it with <see cref="EndNested"/>.</summary>
    public int BeginNested(ushort type)
    {
        int start = _length;
        var s = Reserve(AttributeHeaderSize);
        BinaryPrimitives.WriteUInt16LittleEndian(s[2..], (ushort)(type | NLA_F_NESTED));
        return start;
    }

    public void EndNested(int start) =>
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer[start..], (ushort)(_length - start));

    /// <summary>Writes nlmsg_len and returns the whole message (writable, so the socket can stamp the sequence).</summary>
    public Span<byte> Finish()
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer, (uint)_length);
        return _buffer[.._length];
    }

    private Span<byte> Reserve(int size)
    {
        int aligned = Align(size);
        if (_length + aligned > _buffer.Length)
            throw new InvalidOperationException(
                $"netlink message does not fit its {_buffer.Length}-byte buffer (needs {_length + aligned})");
        var s = _buffer.Slice(_length, aligned);
        s.Clear();
        _length += aligned;
        return s[..size];
    }
}
