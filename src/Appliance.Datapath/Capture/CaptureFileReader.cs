using System.Buffers.Binary;
using System.Text;

namespace Appliance.Datapath.Capture;

/// <summary>Reads a whole pcap (microsecond or nanosecond, either byte order) or pcapng file (any number of sections
/// and interfaces; Enhanced, Simple and obsolete Packet Blocks; epb_flags direction and comments; if_tsresol).
/// Other pcapng blocks are skipped. Anything cut short or inconsistent is a <see cref="CaptureFormatException"/>
/// naming the byte offset; nothing is trusted beyond what the file holds.</summary>
public static class CaptureFileReader
{
    private const uint PcapMicros = 0xa1b2c3d4, PcapNanos = 0xa1b23c4d, PcapngSection = 0x0A0D0D0A, ByteOrderMagic = 0x1A2B3C4D;
    private const int MaxBlock = 16 << 20;

    public static CaptureFile Read(string path)
    {
        using var s = File.OpenRead(path);
        return Read(s);
    }

    public static CaptureFile Read(Stream stream)
    {
        var ms = new MemoryStream();
        stream.CopyTo(ms);
        var bytes = ms.GetBuffer().AsSpan(0, (int)ms.Length);
        if (bytes.Length < 4) throw new CaptureFormatException("not a capture file: shorter than 4 bytes");
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(bytes);
        if (magic == PcapngSection) return ReadPcapng(bytes);
        if (magic is PcapMicros or PcapNanos) return ReadPcap(bytes, bigEndian: false, nanos: magic == PcapNanos);
        uint swapped = BinaryPrimitives.ReverseEndianness(magic);
        if (swapped is PcapMicros or PcapNanos) return ReadPcap(bytes, bigEndian: true, nanos: swapped == PcapNanos);
        throw new CaptureFormatException($"not a pcap or pcapng file (first bytes {magic:x8})");
    }

    private static uint U32(ReadOnlySpan<byte> b, bool big) => big ? BinaryPrimitives.ReadUInt32BigEndian(b) : BinaryPrimitives.ReadUInt32LittleEndian(b);
    private static ushort U16(ReadOnlySpan<byte> b, bool big) => big ? BinaryPrimitives.ReadUInt16BigEndian(b) : BinaryPrimitives.ReadUInt16LittleEndian(b);

    private static CaptureFile ReadPcap(ReadOnlySpan<byte> b, bool bigEndian, bool nanos)
    {
        if (b.Length < 24) throw new CaptureFormatException("pcap header cut short (24 bytes expected)");
        uint snap = U32(b[16..], bigEndian);
        ushort linkType = (ushort)U32(b[20..], bigEndian);
        var records = new List<CaptureRecord>();
        int at = 24;
        while (at < b.Length)
        {
            if (b.Length - at < 16) throw new CaptureFormatException($"pcap record header at byte {at} cut short");
            long sec = U32(b[at..], bigEndian), frac = U32(b[(at + 4)..], bigEndian);
            int caplen = (int)Math.Min(U32(b[(at + 8)..], bigEndian), int.MaxValue);
            int origlen = (int)Math.Min(U32(b[(at + 12)..], bigEndian), int.MaxValue);
            at += 16;
            if (caplen > b.Length - at) throw new CaptureFormatException($"pcap record at byte {at - 16} claims {caplen} bytes, the file ends first");
            records.Add(new CaptureRecord(0, sec * 1_000_000_000 + (nanos ? frac : frac * 1000), b.Slice(at, caplen).ToArray(), origlen));
            at += caplen;
        }
        return new CaptureFile([new CaptureInterface(null, linkType, snap)], records);
    }

    private static CaptureFile ReadPcapng(ReadOnlySpan<byte> b)
    {
        var interfaces = new List<CaptureInterface>();
        var resolutions = new List<(long Num, long Den)>();
        var records = new List<CaptureRecord>();
        int sectionBase = 0;
        bool big = false;
        int at = 0;
        while (at < b.Length)
        {
            if (b.Length - at < 12) throw new CaptureFormatException($"pcapng block at byte {at} cut short");
            uint type = U32(b[at..], big);
            if (type == PcapngSection || BinaryPrimitives.ReverseEndianness(type) == PcapngSection)
            {
                if (b.Length - at < 28) throw new CaptureFormatException($"pcapng section header at byte {at} cut short");
                uint bom = BinaryPrimitives.ReadUInt32LittleEndian(b[(at + 8)..]);
                big = bom switch
                {
                    ByteOrderMagic => false,
                    0x4D3C2B1A => true,
                    _ => throw new CaptureFormatException($"pcapng section at byte {at}: bad byte-order magic {bom:x8}"),
                };
                sectionBase = interfaces.Count;
            }
            uint length = U32(b[(at + 4)..], big);
            if (length < 12 || length % 4 != 0 || length > MaxBlock || length > b.Length - at)
                throw new CaptureFormatException($"pcapng block at byte {at}: bad length {length}");
            var block = b.Slice(at, (int)length);
            if (U32(block[^4..], big) != length)
                throw new CaptureFormatException($"pcapng block at byte {at}: trailing length differs from {length}");
            var body = block[8..^4];
            switch (type)
            {
                case 1: // Interface Description Block
                    {
                        if (body.Length < 8) throw new CaptureFormatException($"pcapng interface block at byte {at} cut short");
                        string? name = null;
                        (long, long) res = (1_000, 1); // default: microseconds
                        foreach (var (code, value) in Options(body[8..], big, at))
                        {
                            if (code == 2) name = Encoding.UTF8.GetString(value);
                            else if (code == 9 && value.Length >= 1) res = Resolution(value[0]);
                        }
                        interfaces.Add(new CaptureInterface(name, U16(body, big), U32(body[4..], big)));
                        resolutions.Add(res);
                        break;
                    }
                case 6: // Enhanced Packet Block
                case 2: // Packet Block (obsolete)
                    {
                        if (body.Length < 20) throw new CaptureFormatException($"pcapng packet block at byte {at} cut short");
                        int iface = type == 6 ? (int)U32(body, big) : U16(body, big);
                        ulong ts = ((ulong)U32(body[4..], big) << 32) | U32(body[8..], big);
                        int caplen = (int)Math.Min(U32(body[12..], big), int.MaxValue);
                        int origlen = (int)Math.Min(U32(body[16..], big), int.MaxValue);
                        if (caplen > body.Length - 20) throw new CaptureFormatException($"pcapng packet block at byte {at}: {caplen} bytes do not fit the block");
                        int global = sectionBase + iface;
                        if (iface < 0 || global >= interfaces.Count) throw new CaptureFormatException($"pcapng packet block at byte {at}: interface {iface} was not described");
                        var direction = PacketDirection.Unknown;
                        string? comment = null;
                        foreach (var (code, value) in Options(body[(20 + Pad(caplen))..], big, at))
                        {
                            if (code == 1) comment = Encoding.UTF8.GetString(value);
                            else if (code == 2 && type == 6 && value.Length >= 4) direction = (PacketDirection)(U32(value, big) & 3);
                        }
                        var (num, den) = resolutions[global];
                        records.Add(new CaptureRecord(global, (long)ts * num / den, body.Slice(20, caplen).ToArray(), origlen, direction, comment));
                        break;
                    }
                case 3: // Simple Packet Block: interface 0, no timestamp
                    {
                        if (body.Length < 4 || sectionBase >= interfaces.Count) throw new CaptureFormatException($"pcapng simple packet block at byte {at} without an interface");
                        int origlen = (int)U32(body, big);
                        int caplen = Math.Min(origlen, Math.Min(body.Length - 4, (int)interfaces[sectionBase].SnapLength is > 0 and var s ? s : int.MaxValue));
                        records.Add(new CaptureRecord(sectionBase, 0, body.Slice(4, caplen).ToArray(), origlen));
                        break;
                    }
            }
            at += (int)length;
        }
        return new CaptureFile(interfaces, records);
    }

    private static int Pad(int n) => (n + 3) & ~3;

    /// <summary>if_tsresol: high bit clear = 10^-v seconds, set = 2^-v seconds; as a fraction of nanoseconds.</summary>
    private static (long, long) Resolution(byte v)
    {
        int e = v & 0x7f;
        if ((v & 0x80) != 0) return e <= 30 ? (1_000_000_000, 1L << e) : (1, 1);
        return e <= 9 ? ((long)Math.Pow(10, 9 - e), 1) : (1, (long)Math.Pow(10, Math.Min(e - 9, 18)));
    }

    private static List<(ushort Code, byte[] Value)> Options(ReadOnlySpan<byte> b, bool big, int blockAt)
    {
        var list = new List<(ushort, byte[])>();
        int at = 0;
        while (b.Length - at >= 4)
        {
            ushort code = U16(b[at..], big), len = U16(b[(at + 2)..], big);
            if (code == 0) break;
            if (len > b.Length - at - 4) throw new CaptureFormatException($"pcapng block at byte {blockAt}: option {code} runs past the block");
            list.Add((code, b.Slice(at + 4, len).ToArray()));
            at += 4 + Pad(len);
        }
        return list;
    }
}
