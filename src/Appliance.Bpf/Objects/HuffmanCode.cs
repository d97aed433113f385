namespace Appliance.Bpf.Objects;

/// <summary>One canonical Huffman code of a DEFLATE block (RFC 1951 3.2.2), built from its code lengths: codes of
/// each length are consecutive numbers in symbol order, shorter ones first. Decodes a symbol from the stream's next
/// bits (first bit lowest; a code's first bit is its most significant): codes of up to <see cref="TableBits"/> bits by
/// one table lookup, longer ones by walking the lengths.</summary>
internal sealed class HuffmanCode
{
    /// <summary>The longest code DEFLATE has.</summary>
    public const int MaxBits = 15;

    private const int TableBits = 9;

    /// <summary>How many symbols have a code of each length (index 0 unused).</summary>
    private readonly int[] _counts = new int[MaxBits + 1];

    /// <summary>The symbols that have a code, by code length, then symbol: the canonical order of their codes.</summary>
    private readonly short[] _symbols;

    /// <summary>By the next <see cref="TableBits"/> bits of the stream: symbol &lt;&lt; 4 | code length, 0 where no code of
    /// up to <see cref="TableBits"/> bits starts with them.</summary>
    private readonly ushort[] _table = new ushort[1 << TableBits];

    public HuffmanCode(int maxSymbols) => _symbols = new short[maxSymbols];

    /// <summary>Builds the code whose symbol i has a code of <paramref name="lengths"/>[i] bits (0: none). A set of
    /// lengths that has more codes than fit (over-subscribed) is refused; so is one that leaves codes unused
    /// (incomplete), except a code with no symbols (reading one from it fails), or, where <paramref name="mayBeSingle"/>,
    /// one symbol of one bit (RFC 1951: "one distance code … is encoded using one bit").</summary>
    public void Build(ReadOnlySpan<byte> lengths, string name, bool mayBeSingle)
    {
        if (lengths.Length > _symbols.Length) throw new GzipException($"{name} has {lengths.Length} code lengths, more than its {_symbols.Length} symbols");
        Array.Clear(_counts);
        foreach (byte length in lengths)
        {
            if (length > MaxBits) throw new GzipException($"{name} has a code of {length} bits (at most {MaxBits})");
            _counts[length]++;
        }
        _counts[0] = 0;

        int unused = 1, codes = 0;
        for (int bits = 1; bits <= MaxBits; bits++)
        {
            unused = (unused << 1) - _counts[bits];
            if (unused < 0) throw new GzipException($"{name} is over-subscribed: more codes of {bits} bits than there are");
            codes += _counts[bits];
        }
        if (unused > 0 && codes > 0 && !(mayBeSingle && codes == 1 && _counts[1] == 1))
            throw new GzipException($"{name} is incomplete: its code lengths leave codes unused");

        Span<int> next = stackalloc int[MaxBits + 1];
        Span<int> slot = stackalloc int[MaxBits + 1];
        for (int bits = 1, code = 0, at = 0; bits <= MaxBits; bits++)
        {
            code = (code + _counts[bits - 1]) << 1;
            next[bits] = code;
            slot[bits] = at;
            at += _counts[bits];
        }

        Array.Clear(_table);
        for (int symbol = 0; symbol < lengths.Length; symbol++)
        {
            int bits = lengths[symbol];
            if (bits == 0) continue;
            _symbols[slot[bits]++] = (short)symbol;
            int code = next[bits]++;
            if (bits > TableBits) continue;
            var entry = (ushort)(symbol << 4 | bits);
            for (int i = Reversed(code, bits); i < _table.Length; i += 1 << bits) _table[i] = entry;
        }
    }

    /// <summary>The symbol whose code begins <paramref name="bits"/> (the stream's next bits, first bit lowest; only the
    /// low <paramref name="available"/> are the stream's, the rest 0), and its code's length; -1 when no code of at
    /// most <paramref name="available"/> bits matches (the stream ends too soon, or its bits are no code of this one's).</summary>
    public int Decode(ulong bits, int available, out int length)
    {
        int entry = _table[(int)bits & ((1 << TableBits) - 1)];
        if (entry != 0)
        {
            length = entry & 15;
            return length <= available ? entry >> 4 : -1;
        }
        // Longer than the table: the first `bits` bits read as a number, first bit highest, against each length's
        // range of codes [first, first + count).
        int code = 0, first = 0, index = 0;
        for (length = 1; length <= MaxBits && length <= available; length++)
        {
            code |= (int)(bits >> (length - 1)) & 1;
            int count = _counts[length];
            if (code - first < count) return _symbols[index + code - first];
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
        return -1;
    }

    private static int Reversed(int code, int bits)
    {
        int reversed = 0;
        for (int i = 0; i < bits; i++, code >>= 1) reversed = reversed << 1 | (code & 1);
        return reversed;
    }
}
