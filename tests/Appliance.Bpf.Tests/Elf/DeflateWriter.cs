using System.IO.Hashing;

namespace Appliance.Bpf.Tests.Elf;

/// <summary>Writes DEFLATE streams bit by bit (RFC 1951: values lowest bit first, Huffman codes highest bit first), so a
/// test can say exactly which block, code or length the decoder meets, valid or not; and wraps one in a gzip member.</summary>
internal sealed class DeflateWriter
{
    /// <summary>The order a dynamic block gives its code length code's lengths in.</summary>
    public static readonly int[] CodeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

    private readonly List<byte> _bytes = [];
    private ulong _pending;
    private int _pendingBits;

    /// <summary><paramref name="count"/> bits of <paramref name="value"/>, lowest first.</summary>
    public DeflateWriter Bits(int value, int count)
    {
        _pending |= (ulong)(uint)value << _pendingBits;
        _pendingBits += count;
        while (_pendingBits >= 8)
        {
            _bytes.Add((byte)_pending);
            _pending >>= 8;
            _pendingBits -= 8;
        }
        return this;
    }

    /// <summary>A Huffman code of <paramref name="length"/> bits, highest first.</summary>
    public DeflateWriter Code(int code, int length)
    {
        for (int i = length - 1; i >= 0; i--) Bits(code >> i & 1, 1);
        return this;
    }

    /// <summary>A block header: BFINAL and BTYPE.</summary>
    public DeflateWriter Block(bool final, int type) => Bits(final ? 1 : 0, 1).Bits(type, 2);

    /// <summary>A literal/length symbol (0…287) in the fixed code.</summary>
    public DeflateWriter FixedLiteral(int symbol) => symbol switch
    {
        < 144 => Code(0x30 + symbol, 8),
        < 256 => Code(0x190 + symbol - 144, 9),
        < 280 => Code(symbol - 256, 7),
        _ => Code(0xc0 + symbol - 280, 8),
    };

    /// <summary>A distance symbol (0…31) in the fixed code.</summary>
    public DeflateWriter FixedDistance(int symbol) => Code(symbol, 5);

    /// <summary>A stored block's header from the next byte on: LEN, NLEN (given, to make them disagree).</summary>
    public DeflateWriter StoredHeader(int length, int complement)
    {
        Align();
        return Bits(length, 16).Bits(complement, 16);
    }

    public DeflateWriter Align() => _pendingBits % 8 == 0 ? this : Bits(0, 8 - _pendingBits % 8);

    public DeflateWriter Bytes(params byte[] bytes)
    {
        Align();
        _bytes.AddRange(bytes);
        return this;
    }

    public byte[] ToArray()
    {
        Align();
        return [.. _bytes];
    }

    /// <summary>The codes canonical Huffman coding gives symbols of these code lengths (RFC 1951 3.2.2), by symbol.</summary>
    public static int[] CanonicalCodes(IReadOnlyList<int> lengths)
    {
        var counts = new int[16];
        foreach (int length in lengths) counts[length]++;
        counts[0] = 0;
        var next = new int[16];
        for (int bits = 1, code = 0; bits < 16; bits++) next[bits] = code = (code + counts[bits - 1]) << 1;
        var codes = new int[lengths.Count];
        for (int s = 0; s < lengths.Count; s++)
            if (lengths[s] != 0) codes[s] = next[lengths[s]]++;
        return codes;
    }

    /// <summary>A dynamic block's code description: HLIT, HDIST, HCLEN, the code length code's lengths
    /// (<paramref name="codeLengthLengths"/>, by symbol 0…18) and then <paramref name="items"/> in it: each a code length
    /// symbol and its extra bits (2 for 16, 3 for 17, 7 for 18).</summary>
    public DeflateWriter DynamicCodes(int literalCount, int distanceCount, int[] codeLengthLengths, params (int Symbol, int Extra)[] items)
    {
        int last = Array.FindLastIndex(CodeLengthOrder, s => codeLengthLengths[s] != 0);
        int codeLengthCount = Math.Max(4, last + 1);
        Bits(literalCount - 257, 5).Bits(distanceCount - 1, 5).Bits(codeLengthCount - 4, 4);
        for (int i = 0; i < codeLengthCount; i++) Bits(codeLengthLengths[CodeLengthOrder[i]], 3);
        var codes = CanonicalCodes(codeLengthLengths);
        foreach (var (symbol, extra) in items)
        {
            Code(codes[symbol], codeLengthLengths[symbol]);
            if (symbol >= 16) Bits(extra, symbol switch { 16 => 2, 17 => 3, _ => 7 });
        }
        return this;
    }

    /// <summary>A gzip header without optional fields.</summary>
    public static readonly byte[] Header = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];

    /// <summary>A gzip member of <paramref name="deflate"/>, with the CRC-32 and length of <paramref name="content"/>.</summary>
    public static byte[] Member(byte[] deflate, byte[] content)
        => [.. Header, .. deflate, .. Crc32.Hash(content), .. BitConverter.GetBytes(content.Length)];
}
