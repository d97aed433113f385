using System.Buffers.Binary;
using System.Text;

namespace Appliance.Datapath.Capture;

/// <summary>Writes a pcapng file (little-endian, one section): a Section Header Block naming the appliance, one
/// Interface Description Block per capture point (Ethernet, nanosecond timestamps, if_name), Enhanced Packet Blocks
/// with epb_flags (direction) and opt_comment; every interface has the file's one snap length (libpcap, and so
/// tcpdump, refuses files whose interfaces differ in it),, and Interface Statistics Blocks (isb_ifrecv, isb_ifdrop) at the end.
/// Each block is written whole with one Write, so a reader following a stream (<c>tcpdump -r -</c>) never sees half
/// a block; <see cref="Flush"/> pushes them out.</summary>
public sealed class PcapngWriter : IDisposable
{
    private const uint ShbType = 0x0A0D0D0A, IdbType = 1, EpbType = 6, IsbType = 5;
    private readonly Stream _out;
    private readonly bool _leaveOpen;
    private byte[] _block = new byte[8192];
    private int _at;
    private int _interfaces;
    private readonly int _snapLength;

    public PcapngWriter(Stream output, string application, int snapLength = 262144, bool leaveOpen = false)
    {
        _out = output;
        _snapLength = snapLength;
        _leaveOpen = leaveOpen;
        Begin(ShbType);
        U32(0x1A2B3C4D);
        U16(1);
        U16(0);
        U64(ulong.MaxValue); // section length unknown (streamed)
        Option(4, Encoding.UTF8.GetBytes(application)); // shb_userappl
        EndOptions();
        End();
    }

    /// <summary>Describes a capture point; returns its interface id for <see cref="WritePacket"/>.</summary>
    public int AddInterface(string name, string? description = null)
    {
        Begin(IdbType);
        U16(CaptureFile.LinkTypeEthernet);
        U16(0);
        U32((uint)_snapLength);
        Option(2, Encoding.UTF8.GetBytes(name)); // if_name
        if (description is not null) Option(3, Encoding.UTF8.GetBytes(description)); // if_description
        Option(9, [9]); // if_tsresol: nanoseconds
        EndOptions();
        End();
        return _interfaces++;
    }

    /// <param name="data">The captured bytes (at most the interface's snap length).</param>
    /// <param name="originalLength">The frame's length on the wire.</param>
    public void WritePacket(int iface, long timestampNanoseconds, ReadOnlySpan<byte> data, int originalLength,
        PacketDirection direction = PacketDirection.Unknown, string? comment = null)
    {
        if ((uint)iface >= (uint)_interfaces) throw new ArgumentOutOfRangeException(nameof(iface), $"interface {iface} was not added");
        Begin(EpbType);
        U32((uint)iface);
        ulong ts = (ulong)timestampNanoseconds;
        U32((uint)(ts >> 32));
        U32((uint)ts);
        U32((uint)data.Length);
        U32((uint)originalLength);
        Bytes(data);
        if (direction != PacketDirection.Unknown)
        {
            Span<byte> flags = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(flags, (uint)direction);
            Option(2, flags);
        }
        if (comment is not null) Option(1, Encoding.UTF8.GetBytes(comment));
        EndOptions();
        End();
    }

    /// <summary>An Interface Statistics Block: frames seen at the capture point and frames the capture lost.</summary>
    public void WriteStatistics(int iface, long timestampNanoseconds, ulong received, ulong dropped)
    {
        Begin(IsbType);
        U32((uint)iface);
        ulong ts = (ulong)timestampNanoseconds;
        U32((uint)(ts >> 32));
        U32((uint)ts);
        Span<byte> v = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(v, received);
        Option(4, v); // isb_ifrecv
        BinaryPrimitives.WriteUInt64LittleEndian(v, dropped);
        Option(5, v); // isb_ifdrop
        EndOptions();
        End();
    }

    public void Flush() => _out.Flush();

    private void Begin(uint type)
    {
        _at = 0;
        U32(type);
        U32(0); // length, filled in by End
    }

    private void End()
    {
        int total = _at + 4;
        BinaryPrimitives.WriteUInt32LittleEndian(_block.AsSpan(4), (uint)total);
        U32((uint)total);
        _out.Write(_block, 0, _at);
    }

    private void Option(ushort code, ReadOnlySpan<byte> value)
    {
        U16(code);
        U16((ushort)Math.Min(value.Length, ushort.MaxValue));
        Bytes(value[..Math.Min(value.Length, ushort.MaxValue)]);
    }

    private void EndOptions() => U32(0); // opt_endofopt (code 0, length 0)

    private void Bytes(ReadOnlySpan<byte> data)
    {
        int padded = (data.Length + 3) & ~3;
        Ensure(padded);
        data.CopyTo(_block.AsSpan(_at));
        _block.AsSpan(_at + data.Length, padded - data.Length).Clear();
        _at += padded;
    }

    private void U16(ushort v)
    {
        Ensure(2);
        BinaryPrimitives.WriteUInt16LittleEndian(_block.AsSpan(_at), v);
        _at += 2;
    }

    private void U32(uint v)
    {
        Ensure(4);
        BinaryPrimitives.WriteUInt32LittleEndian(_block.AsSpan(_at), v);
        _at += 4;
    }

    private void U64(ulong v)
    {
        Ensure(8);
        BinaryPrimitives.WriteUInt64LittleEndian(_block.AsSpan(_at), v);
        _at += 8;
    }

    private void Ensure(int n)
    {
        if (_at + n + 4 <= _block.Length) return;
        Array.Resize(ref _block, Math.Max(_block.Length * 2, _at + n + 4));
    }

    public void Dispose()
    {
        _out.Flush();
        if (!_leaveOpen) _out.Dispose();
    }
}
