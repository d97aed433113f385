using System.Buffers.Binary;
using System.IO.Hashing;

namespace Appliance.Bpf.Objects;

/// <summary>Unpacks gzip data (RFC 1952), as <c>/proc/config.gz</c> is: one member or more, one after the other (their
/// contents joined, as <c>gzip -d</c> and zlib's gzread give them), each a header (its optional extra field, name,
/// comment and header CRC read and checked), a DEFLATE stream (<see cref="Inflater"/>) and the CRC-32 and length of
/// what it unpacks to, both checked. Bytes after the last member that are not another member are refused, not
/// skipped. Anything wrong is a <see cref="GzipException"/>.</summary>
public static class Gzip
{
    private const byte Id1 = 0x1f, Id2 = 0x8b, Deflate = 8;
    private const byte HeaderCrc = 1 << 1, Extra = 1 << 2, Name = 1 << 3, Comment = 1 << 4, Reserved = 0xe0;

    /// <summary>Whether the data starts as gzip does.</summary>
    public static bool HasMagic(ReadOnlySpan<byte> data) => data is [Id1, Id2, ..];

    /// <summary>What <paramref name="data"/> unpacks to, at most <paramref name="maxBytes"/> bytes (more is refused
    /// before memory for it is taken: <see cref="GzipException.TooLarge"/>).</summary>
    public static byte[] Unpack(ReadOnlySpan<byte> data, int maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        if (data.IsEmpty) throw new GzipException("the gzip data is empty");
        var output = new InflateOutput(maxBytes);
        int position = 0;
        for (int member = 1; position < data.Length; member++)
        {
            position = SkipHeader(data, position, member);
            int start = output.Length;
            position = new Inflater(data, position, output).Run();
            if (data.Length - position < 8)
                throw new GzipException($"member {member}: the data ends inside its CRC-32 and length (at byte {position} of the gzip data)");
            uint crc = BinaryPrimitives.ReadUInt32LittleEndian(data[position..]), size = BinaryPrimitives.ReadUInt32LittleEndian(data[(position + 4)..]);
            var unpacked = output.Since(start);
            uint actualCrc = Crc32.HashToUInt32(unpacked);
            if (crc != actualCrc)
                throw new GzipException($"member {member}: its CRC-32 is 0x{crc:x8}, and what it unpacks to has 0x{actualCrc:x8} (at byte {position} of the gzip data)");
            if (size != (uint)unpacked.Length)
                throw new GzipException($"member {member}: its length is {size} (mod 2^32), and it unpacks to {unpacked.Length} bytes (at byte {position + 4} of the gzip data)");
            position += 8;
        }
        return output.ToArray();
    }

    /// <summary>Reads a member's header at <paramref name="position"/>; returns where its DEFLATE stream starts.</summary>
    private static int SkipHeader(ReadOnlySpan<byte> data, int position, int member)
    {
        int start = position;
        var rest = data[position..];
        if (rest is not ([Id1, Id2, ..] or [Id1]))
            throw new GzipException(member == 1 ? "not gzip (it does not start with 1f 8b)"
                : $"{rest.Length} bytes after the last gzip member (at byte {position}) that are not another member");
        if (rest.Length < 10) throw Short(member, data.Length);
        if (data[position + 2] != Deflate)
            throw new GzipException($"member {member}: compression method {data[position + 2]} (gzip has only 8, DEFLATE)");
        byte flags = data[position + 3];
        if ((flags & Reserved) != 0) throw new GzipException($"member {member}: reserved header flags set (0x{flags:x2})");
        position += 10; // magic, method, flags, modification time, extra flags, operating system

        if ((flags & Extra) != 0)
        {
            if (data.Length - position < 2) throw Short(member, data.Length);
            int length = BinaryPrimitives.ReadUInt16LittleEndian(data[position..]);
            position += 2;
            if (data.Length - position < length) throw Short(member, data.Length);
            position += length;
        }
        foreach (byte field in (ReadOnlySpan<byte>)[Name, Comment])
        {
            if ((flags & field) == 0) continue;
            int end = data[position..].IndexOf((byte)0); // a zero-terminated Latin-1 string
            if (end < 0) throw Short(member, data.Length);
            position += end + 1;
        }
        if ((flags & HeaderCrc) != 0)
        {
            if (data.Length - position < 2) throw Short(member, data.Length);
            ushort crc = BinaryPrimitives.ReadUInt16LittleEndian(data[position..]), actual = (ushort)Crc32.HashToUInt32(data[start..position]);
            if (crc != actual) throw new GzipException($"member {member}: its header CRC is 0x{crc:x4}, and the header has 0x{actual:x4}");
            position += 2;
        }
        return position;
    }

    private static GzipException Short(int member, int end) => new($"member {member}: the data ends inside its header (at byte {end})");
}
