namespace Appliance.Bpf.Objects;

/// <summary>Unpacks one DEFLATE stream (RFC 1951): blocks stored, with the fixed Huffman codes, or with codes of their
/// own, up to the final one. Bits are taken from each byte lowest first; a distance may reach back only over what this
/// stream has written. Everything malformed is a <see cref="GzipException"/>, and each step reads input, so it ends.</summary>
internal ref struct Inflater
{
    private static readonly HuffmanCode FixedLiterals = Fixed(288, s => s switch { < 144 => 8, < 256 => 9, < 280 => 7, _ => 8 });
    private static readonly HuffmanCode FixedDistances = Fixed(32, _ => 5); // 30 and 31 complete the code, unused

    /// <summary>The order a block gives its code length code's lengths in.</summary>
    private static ReadOnlySpan<byte> CodeLengthOrder => [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

    /// <summary>Length symbols 257…285: the shortest length each stands for and how many extra bits add to it.</summary>
    private static ReadOnlySpan<ushort> LengthBase => [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
    private static ReadOnlySpan<byte> LengthExtra => [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];

    /// <summary>Distance symbols 0…29 likewise.</summary>
    private static ReadOnlySpan<ushort> DistanceBase => [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
    private static ReadOnlySpan<byte> DistanceExtra => [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];

    private readonly ReadOnlySpan<byte> _input;
    private readonly InflateOutput _output;

    /// <summary>Where this stream's output starts: no distance reaches before it.</summary>
    private readonly int _start;

    private int _position;

    /// <summary>Input bits read ahead and not used yet, the next one lowest; always whole bytes' worth plus what is
    /// left of the byte being used, so <see cref="_position"/> less their whole bytes is where the stream stands.</summary>
    private ulong _bits;
    private int _bitCount;

    private HuffmanCode? _literals, _distances, _codeLengths;

    public Inflater(ReadOnlySpan<byte> input, int position, InflateOutput output)
    {
        _input = input;
        _position = position;
        _output = output;
        _start = output.Length;
    }

    /// <summary>Unpacks the stream that starts at the position given; returns the position of the byte after it (its
    /// last byte's unused bits skipped).</summary>
    public int Run()
    {
        bool final;
        do
        {
            final = Bits(1) == 1;
            switch (Bits(2))
            {
                case 0: Stored(); break;
                case 1: Compressed(FixedLiterals, FixedDistances); break;
                case 2: Compressed(ReadCodes(out var distances), distances); break;
                default: throw Fail("a block of type 3, which DEFLATE does not have");
            }
        } while (!final);
        DropToByte();
        return _position - _bitCount / 8;
    }

    private void Stored()
    {
        DropToByte();
        int length = Bits(16), complement = Bits(16);
        if (length != (~complement & 0xffff))
            throw Fail($"a stored block's length {length} and its complement 0x{complement:x4} disagree");
        _position -= _bitCount / 8; // give back the bytes read ahead: the block's bytes follow its length
        _bits = 0;
        _bitCount = 0;
        if (length > _input.Length - _position) throw Truncated();
        _output.Add(_input.Slice(_position, length));
        _position += length;
    }

    private void Compressed(HuffmanCode literals, HuffmanCode distances)
    {
        while (true)
        {
            int symbol = Decode(literals, "the literal/length code");
            if (symbol < 256)
            {
                _output.Add((byte)symbol);
                continue;
            }
            if (symbol == 256) return;
            symbol -= 257;
            if (symbol >= LengthBase.Length) throw Fail($"length symbol {symbol + 257}, which DEFLATE does not use");
            int length = LengthBase[symbol] + Bits(LengthExtra[symbol]);

            symbol = Decode(distances, "the distance code");
            if (symbol >= DistanceBase.Length) throw Fail($"distance symbol {symbol}, which DEFLATE does not use");
            int distance = DistanceBase[symbol] + Bits(DistanceExtra[symbol]);
            if (distance > _output.Length - _start)
                throw Fail($"a distance of {distance} bytes, back before the start of the data ({_output.Length - _start} bytes so far)");
            _output.Copy(distance, length);
        }
    }

    /// <summary>A dynamic block's codes: its code length code, then the literal/length and distance codes' lengths
    /// in it (RFC 1951 3.2.7).</summary>
    private HuffmanCode ReadCodes(out HuffmanCode distances)
    {
        int literalCount = Bits(5) + 257, distanceCount = Bits(5) + 1, codeLengthCount = Bits(4) + 4;
        if (literalCount > 286) throw Fail($"{literalCount} literal/length codes (at most 286)");
        if (distanceCount > 30) throw Fail($"{distanceCount} distance codes (at most 30)");

        Span<byte> lengths = stackalloc byte[286 + 30];
        lengths.Clear();
        for (int i = 0; i < codeLengthCount; i++) lengths[CodeLengthOrder[i]] = (byte)Bits(3);
        _codeLengths ??= new HuffmanCode(19);
        Build(_codeLengths, lengths[..19], "the code length code", mayBeSingle: false);

        int total = literalCount + distanceCount;
        lengths.Clear();
        for (int i = 0; i < total;)
        {
            int symbol = Decode(_codeLengths, "the code length code");
            if (symbol < 16)
            {
                lengths[i++] = (byte)symbol;
                continue;
            }
            byte value = 0;
            int repeat;
            if (symbol == 16)
            {
                if (i == 0) throw Fail("a code length repeats the previous one, and there is none");
                value = lengths[i - 1];
                repeat = 3 + Bits(2);
            }
            else repeat = symbol == 17 ? 3 + Bits(3) : 11 + Bits(7);
            if (repeat > total - i) throw Fail($"code lengths repeat past the {total} the block gives");
            lengths.Slice(i, repeat).Fill(value);
            i += repeat;
        }
        if (lengths[256] == 0) throw Fail("the literal/length code has no end-of-block code");

        _literals ??= new HuffmanCode(286);
        _distances ??= new HuffmanCode(30);
        Build(_literals, lengths[..literalCount], "the literal/length code", mayBeSingle: true);
        Build(_distances, lengths.Slice(literalCount, distanceCount), "the distance code", mayBeSingle: true);
        distances = _distances;
        return _literals;
    }

    private readonly void Build(HuffmanCode code, ReadOnlySpan<byte> lengths, string name, bool mayBeSingle)
    {
        try
        {
            code.Build(lengths, name, mayBeSingle);
        }
        catch (GzipException e)
        {
            throw Fail(e.Message);
        }
    }

    private int Decode(HuffmanCode code, string name)
    {
        while (_bitCount < HuffmanCode.MaxBits && _position < _input.Length) Load();
        int symbol = code.Decode(_bits, _bitCount, out int length);
        if (symbol < 0)
            throw _bitCount < HuffmanCode.MaxBits ? Truncated() : Fail($"bits that are no code of {name}");
        _bits >>= length;
        _bitCount -= length;
        return symbol;
    }

    /// <summary>The next <paramref name="count"/> (≤ 16) bits as a number, the first lowest.</summary>
    private int Bits(int count)
    {
        while (_bitCount < count)
        {
            if (_position == _input.Length) throw Truncated();
            Load();
        }
        int value = (int)(_bits & ((1UL << count) - 1));
        _bits >>= count;
        _bitCount -= count;
        return value;
    }

    private void Load()
    {
        _bits |= (ulong)_input[_position++] << _bitCount;
        _bitCount += 8;
    }

    private void DropToByte()
    {
        _bits >>= _bitCount & 7;
        _bitCount &= ~7;
    }

    private readonly GzipException Truncated() => Fail("the data ends inside a DEFLATE block");

    private readonly GzipException Fail(string what) => new($"{what} (at byte {_position - _bitCount / 8} of the gzip data)");

    private static HuffmanCode Fixed(int symbols, Func<int, byte> length)
    {
        var lengths = new byte[symbols];
        for (int s = 0; s < symbols; s++) lengths[s] = length(s);
        var code = new HuffmanCode(symbols);
        code.Build(lengths, "the fixed code", mayBeSingle: false);
        return code;
    }
}
