using System.Diagnostics;
using System.IO.Compression;
using System.IO.Hashing;
using System.Text;
using Appliance.Bpf.Objects;
using Xunit;

namespace Appliance.Bpf.Tests.Elf;

/// <summary>Our gzip reader (<see cref="Gzip"/>, for /proc/config.gz): what .NET's GZipStream (zlib-ng) and the
/// system's gzip pack, it unpacks to the same bytes, at every level and size and with every block type; hand-written
/// streams reach each header field and each malformed case, which gives a <see cref="GzipException"/> saying what;
/// random mutations of valid streams give the right bytes or that error, never another exception; a bomb stops at the
/// bound without taking more memory.</summary>
public sealed class GzipTests
{
    private const int Limit = 1 << 20;

    private static byte[] Pack(byte[] data, CompressionLevel level)
    {
        var packed = new MemoryStream();
        using (var gzip = new GZipStream(packed, level)) gzip.Write(data);
        return packed.ToArray();
    }

    /// <summary>Data of a kind: random bytes (stored or barely compressible), text-like (matches near and far, dynamic
    /// codes), a few symbols (long runs, short codes) or zeros (the longest matches).</summary>
    private static byte[] Sample(Random random, int size, int kind)
    {
        var data = new byte[size];
        switch (kind)
        {
            case 0:
                random.NextBytes(data);
                break;
            case 1:
                var words = new[] { "CONFIG_", "=y\n", "=m\n", "# ", " is not set\n", "NET", "BPF", "_DEBUG", "XDP", "=0x", "\"\"" };
                for (int i = 0; i < size;)
                {
                    if (random.Next(8) == 0) data[i++] = (byte)random.Next(256);
                    foreach (char c in words[random.Next(words.Length)])
                        if (i < size) data[i++] = (byte)c;
                }
                break;
            case 2:
                for (int i = 0; i < size; i++) data[i] = (byte)"ab\n"[random.Next(3)];
                break;
        }
        return data;
    }

    private static int FirstBlockType(byte[] gzip) => gzip[10] >> 1 & 3; // GZipStream writes a 10-byte header

    /// <summary>An empty member: GZipStream writes none (no bytes at all for no data, which is not gzip and refused as
    /// such: RunningKernel reads a file without gzip's magic as plain text), so the empty members are the system gzip's
    /// (below) and these.</summary>
    [Fact]
    public void EmptyMembersUnpackToNothing()
    {
        Assert.Empty(Pack([], CompressionLevel.Optimal));
        Assert.Empty(Gzip.Unpack(DeflateWriter.Member(new DeflateWriter().Block(true, 1).FixedLiteral(256).ToArray(), []), Limit));
        Assert.Empty(Gzip.Unpack(DeflateWriter.Member(new DeflateWriter().Block(true, 0).StoredHeader(0, 0xffff).ToArray(), []), Limit));
        Assert.Equal("the gzip data is empty", Assert.Throws<GzipException>(() => Gzip.Unpack([], Limit)).Message);
    }

    [Fact]
    public void WhatGZipStreamPacksUnpacksToTheSameBytesAtEveryLevelAndSize()
    {
        var random = new Random(1952);
        var blockTypes = new HashSet<int>();
        foreach (var level in new[] { CompressionLevel.NoCompression, CompressionLevel.Fastest, CompressionLevel.Optimal, CompressionLevel.SmallestSize })
            foreach (int size in new[] { 1, 2, 3, 257, 258, 259, 32767, 32768, 32769, 65535, 65536, 65537, 70000, 300_000 })
                for (int kind = 0; kind < 4; kind++)
                {
                    var data = Sample(random, size, kind);
                    var packed = Pack(data, level);
                    blockTypes.Add(FirstBlockType(packed));
                    Assert.True(data.AsSpan().SequenceEqual(Gzip.Unpack(packed, Limit)), $"{level}, {size} bytes of kind {kind}");
                }
        Assert.Equal(new[] { 0, 1, 2 }, blockTypes.Order()); // stored, fixed and dynamic blocks were all met
    }

    [Fact]
    public void ManyRandomBuffersRoundTrip()
    {
        var random = new Random(1951);
        var levels = Enum.GetValues<CompressionLevel>();
        for (int i = 0; i < 600; i++)
        {
            int size = random.Next(4) == 0 ? random.Next(1, 16) : random.Next(1, 100_000);
            var data = Sample(random, size, random.Next(4));
            var level = levels[random.Next(levels.Length)];
            Assert.True(data.AsSpan().SequenceEqual(Gzip.Unpack(Pack(data, level), Limit)), $"buffer {i}: {level}, {size} bytes");
        }
    }

    /// <summary>The running kernel's own /proc/config.gz when it has one (as GZipStream reads it), and what the system's
    /// gzip packs at -1 and -9 from a file, which puts the file's name in the header (FNAME).</summary>
    [Fact]
    public void TheKernelsConfigAndTheSystemGzipsOutputUnpack()
    {
        var dir = Directory.CreateTempSubdirectory("mapp-gzip-").FullName;
        try
        {
            byte[] text;
            if (File.Exists("/proc/config.gz"))
            {
                var packed = File.ReadAllBytes("/proc/config.gz");
                using var gzip = new GZipStream(new MemoryStream(packed), CompressionMode.Decompress);
                var expected = new MemoryStream();
                gzip.CopyTo(expected);
                text = Gzip.Unpack(packed, RunningKernel.MaxConfigBytes);
                Assert.Equal(expected.ToArray(), text);
                Assert.Contains("CONFIG_BPF=y", Encoding.Latin1.GetString(text));
            }
            else text = Sample(new Random(1), 300_000, 1);

            var config = Path.Combine(dir, "config");
            File.WriteAllBytes(config, [.. text, .. Sample(new Random(2), 100_000, 0)]); // and some that does not compress
            var empty = Path.Combine(dir, "empty");
            File.WriteAllBytes(empty, []);
            foreach (var input in new[] { config, empty })
                foreach (var level in new[] { "-1", "-6", "-9" })
                {
                    var run = Process.Start(new ProcessStartInfo("gzip", [level, "--keep", "--force", input]))!;
                    run.WaitForExit();
                    Assert.Equal(0, run.ExitCode);
                    var packed = File.ReadAllBytes(input + ".gz");
                    Assert.Equal(1 << 3, packed[3]); // FNAME
                    Assert.Equal(File.ReadAllBytes(input), Gzip.Unpack(packed, RunningKernel.MaxConfigBytes));
                }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void StoredBlocksOfEveryLengthIncludingNone()
    {
        var content = Sample(new Random(3), 70_000, 0);
        var writer = new DeflateWriter().Block(false, 0).StoredHeader(0, 0xffff); // an empty stored block
        writer.Block(false, 1).FixedLiteral(content[0]).FixedLiteral(256); // a fixed block, then stored ones mid-byte
        writer.Block(false, 0).StoredHeader(65535, 0).Bytes(content[1..65536]);
        writer.Block(true, 0).StoredHeader(content.Length - 65536, ~(content.Length - 65536) & 0xffff).Bytes(content[65536..]);
        Assert.Equal(content, Gzip.Unpack(DeflateWriter.Member(writer.ToArray(), content), Limit));
    }

    /// <summary>Every optional header field (FTEXT, FEXTRA, FNAME, FCOMMENT, FHCRC) is read past, the header CRC
    /// checked.</summary>
    [Fact]
    public void EveryHeaderFieldIsReadAndTheHeaderCrcChecked()
    {
        var content = "CONFIG_HZ=250\n"u8.ToArray();
        var deflate = new DeflateWriter().Block(true, 1);
        foreach (byte b in content) deflate.FixedLiteral(b);
        var body = deflate.FixedLiteral(256).ToArray();
        byte[] header = [0x1f, 0x8b, 8, 0x1f, 1, 2, 3, 4, 2, 3, 6, 0, (byte)'A', (byte)'P', 2, 0, 9, 9, .. "config\0"u8, .. "a comment\0"u8];
        var crc16 = BitConverter.GetBytes((ushort)Crc32.HashToUInt32(header));
        byte[] member = [.. header, .. crc16, .. body, .. Crc32.Hash(content), .. BitConverter.GetBytes(content.Length)];
        Assert.Equal(content, Gzip.Unpack(member, Limit));

        member[header.Length] ^= 1;
        Assert.Contains("member 1: its header CRC is", Assert.Throws<GzipException>(() => Gzip.Unpack(member, Limit)).Message);
    }

    [Fact]
    public void MembersOneAfterTheOtherAreJoinedAndAnythingElseAfterThemIsRefused()
    {
        var first = "CONFIG_A=y\n"u8.ToArray();
        var second = Sample(new Random(4), 100_000, 1);
        var empty = DeflateWriter.Member(new DeflateWriter().Block(true, 1).FixedLiteral(256).ToArray(), []);
        byte[] both = [.. Pack(first, CompressionLevel.Optimal), .. empty, .. Pack(second, CompressionLevel.Fastest)];
        Assert.Equal([.. first, .. second], Gzip.Unpack(both, Limit));

        var one = Pack(first, CompressionLevel.Optimal);
        var backIntoTheFirst = DeflateWriter.Member(Fixed().FixedLiteral(257).FixedDistance(0).FixedLiteral(256).ToArray(), "\n\n\n"u8.ToArray());
        Assert.Contains("a distance of 1 bytes, back before the start of the data (0 bytes so far)", // each member stands alone
            Assert.Throws<GzipException>(() => Gzip.Unpack([.. one, .. backIntoTheFirst], Limit)).Message);

        Assert.Equal($"3 bytes after the last gzip member (at byte {one.Length}) that are not another member",
            Assert.Throws<GzipException>(() => Gzip.Unpack([.. one, 0, 0, 0], Limit)).Message);
        Assert.Contains("member 2: the data ends inside its header",
            Assert.Throws<GzipException>(() => Gzip.Unpack([.. Pack(first, CompressionLevel.Optimal), 0x1f], Limit)).Message);
    }

    /// <summary>A code length code of 2 bits each for lengths 0, 1, 8 and 18 (zeros, 11…138 of them).</summary>
    private static int[] CodeLengthCode(params int[] symbols)
    {
        var lengths = new int[19];
        foreach (int s in symbols) lengths[s] = 2;
        return lengths;
    }

    /// <summary>The literal/length code of <see cref="Dynamic"/>: 8 bits for literals 0…253, end-of-block (256) and
    /// length 258 (285), none for the rest (256 codes of 8 bits: complete).</summary>
    private static readonly int[] LiteralLengths = [.. Enumerable.Range(0, 286).Select(s => s is < 254 or 256 or 285 ? 8 : 0)];
    private static readonly int[] LiteralCodes = DeflateWriter.CanonicalCodes(LiteralLengths);

    /// <summary>A final dynamic block with <see cref="LiteralLengths"/> and a distance code of
    /// <paramref name="distanceItems"/>, written in <see cref="CodeLengthCode"/>(0, 1, 8, 18).</summary>
    private static DeflateWriter Dynamic(int distanceCount, params (int, int)[] distanceItems)
    {
        (int, int)[] literals = [.. Enumerable.Repeat((8, 0), 254), (0, 0), (0, 0), (8, 0), (18, 28 - 11), (8, 0)];
        return new DeflateWriter().Block(true, 2).DynamicCodes(286, distanceCount, CodeLengthCode(0, 1, 8, 18), [.. literals, .. distanceItems]);
    }

    private static byte[] Member(DeflateWriter deflate, byte[] content) => DeflateWriter.Member(deflate.ToArray(), content);

    /// <summary>RFC 1951: "If only one distance code is used, it is encoded using one bit"; and a block of literals only
    /// may have no distance code at all. A literal/length code of only end-of-block (one code of one bit) is allowed too.</summary>
    [Fact]
    public void ADistanceCodeOfOneCodeOrNoneIsAllowed()
    {
        var run = Enumerable.Repeat((byte)'a', 259).ToArray();
        var writer = Dynamic(1, (1, 0)).Code(LiteralCodes['a'], 8).Code(LiteralCodes[285], 8).Code(0, 1).Code(LiteralCodes[256], 8);
        Assert.Equal(run, Gzip.Unpack(Member(writer, run), Limit));

        writer = Dynamic(1, (1, 0)).Code(LiteralCodes['a'], 8).Code(LiteralCodes[285], 8).Code(1, 1).Code(LiteralCodes[256], 8);
        Assert.Contains("bits that are no code of the distance code", Refusal(writer, run));

        writer = Dynamic(1, (0, 0)).Code(LiteralCodes['x'], 8).Code(LiteralCodes[256], 8);
        Assert.Equal("x"u8.ToArray(), Gzip.Unpack(Member(writer, "x"u8.ToArray()), Limit));

        var endOnly = new DeflateWriter().Block(true, 2).DynamicCodes(257, 1, CodeLengthCode(0, 1, 8, 18), (18, 127), (18, 107), (1, 0), (0, 0));
        Assert.Empty(Gzip.Unpack(Member(endOnly.Code(0, 1), []), Limit));
        endOnly = new DeflateWriter().Block(true, 2).DynamicCodes(257, 1, CodeLengthCode(0, 1, 8, 18), (18, 127), (18, 107), (1, 0), (0, 0));
        Assert.Contains("bits that are no code of the literal/length code", Refusal(endOnly.Code(1, 1).Bits(0, 16), []));
    }

    private static string Refusal(DeflateWriter deflate, byte[] content)
        => Assert.Throws<GzipException>(() => Gzip.Unpack(Member(deflate, content), Limit)).Message;

    /// <summary>A stream cut off after <paramref name="deflate"/>: header and DEFLATE data, no trailer.</summary>
    private static string CutShort(DeflateWriter deflate)
        => Assert.Throws<GzipException>(() => Gzip.Unpack([.. DeflateWriter.Header, .. deflate.ToArray()], Limit)).Message;

    private static DeflateWriter Fixed() => new DeflateWriter().Block(true, 1);

    private static GzipException Refused(byte[] gzip) => Assert.Throws<GzipException>(() => Gzip.Unpack(gzip, Limit));

    [Fact]
    public void AMalformedHeaderOrTrailerIsRefusedSayingWhat()
    {
        var valid = Pack("CONFIG_HZ=250\n"u8.ToArray(), CompressionLevel.Optimal);
        Assert.Equal("the gzip data is empty", Refused([]).Message);
        Assert.Equal("not gzip (it does not start with 1f 8b)", Refused("CONFIG_HZ=250\n"u8.ToArray()).Message);
        Assert.Equal("member 1: the data ends inside its header (at byte 5)", Refused(valid[..5]).Message);
        Assert.Equal("member 1: compression method 7 (gzip has only 8, DEFLATE)", Refused([.. valid[..2], 7, .. valid[3..]]).Message);
        Assert.Equal("member 1: reserved header flags set (0x20)", Refused([.. valid[..3], 0x20, .. valid[4..]]).Message);
        Assert.Contains("ends inside its header", Refused([.. valid[..3], 1 << 3, .. valid[4..10], .. "no terminator"u8]).Message);
        Assert.Contains("ends inside its header", Refused([.. valid[..3], 1 << 2, .. valid[4..10], 200, 0, 1, 2]).Message);
        Assert.Equal("the data ends inside a DEFLATE block (at byte 10 of the gzip data)", Refused(valid[..10]).Message);
        Assert.Contains("the data ends inside a DEFLATE block", Refused(valid[..^9]).Message);
        Assert.Contains("member 1: the data ends inside its CRC-32 and length", Refused(valid[..^1]).Message);
        var badCrc = valid.ToArray();
        badCrc[^8] ^= 0x40;
        Assert.Matches(@"^member 1: its CRC-32 is 0x[0-9a-f]{8}, and what it unpacks to has 0x[0-9a-f]{8} \(at byte \d+", Refused(badCrc).Message);
        var badLength = valid.ToArray();
        badLength[^4]++;
        Assert.Contains("member 1: its length is 15 (mod 2^32), and it unpacks to 14 bytes", Refused(badLength).Message);
    }

    [Fact]
    public void AMalformedBlockIsRefusedSayingWhat()
    {
        Assert.Contains("a block of type 3, which DEFLATE does not have", Refusal(new DeflateWriter().Block(true, 3), []));
        Assert.Contains("a stored block's length 5 and its complement 0x0000 disagree",
            Refusal(new DeflateWriter().Block(true, 0).StoredHeader(5, 0).Bytes(1, 2, 3, 4, 5), [1, 2, 3, 4, 5]));
        Assert.Contains("the data ends inside a DEFLATE block", CutShort(new DeflateWriter().Block(true, 0).StoredHeader(5, ~5 & 0xffff).Bytes(1, 2, 3)));
        Assert.Contains("the data ends inside a DEFLATE block", CutShort(Fixed().FixedLiteral(97))); // no end-of-block
        Assert.Contains("the data ends inside a DEFLATE block", CutShort(new DeflateWriter().Block(false, 1).FixedLiteral(256))); // no final block
        Assert.Contains("the data ends inside a DEFLATE block", CutShort(Dynamic(1, (1, 0)).Code(LiteralCodes['a'], 8)));
        Assert.Contains("the data ends inside a DEFLATE block", CutShort(Dynamic(2))); // inside the distance code's lengths

        Assert.Contains("a distance of 1 bytes, back before the start of the data (0 bytes so far)",
            Refusal(Fixed().FixedLiteral(257).FixedDistance(0).FixedLiteral(256), []));
        Assert.Contains("a distance of 5 bytes, back before the start of the data (4 bytes so far)",
            Refusal(Fixed().FixedLiteral(1).FixedLiteral(2).FixedLiteral(3).FixedLiteral(4).FixedLiteral(257).FixedDistance(4).Bits(0, 1)
                .FixedLiteral(256), [1, 2, 3, 4]));
        Assert.Contains("length symbol 286, which DEFLATE does not use", Refusal(Fixed().FixedLiteral(286), []));
        Assert.Contains("distance symbol 30, which DEFLATE does not use",
            Refusal(Fixed().FixedLiteral(97).FixedLiteral(257).FixedDistance(30).FixedLiteral(256), []));
    }

    [Fact]
    public void BadCodeLengthsAreRefusedSayingWhat()
    {
        DeflateWriter Codes(int literals, int distances, int[] codeLengthCode, params (int, int)[] items)
            => new DeflateWriter().Block(true, 2).DynamicCodes(literals, distances, codeLengthCode, items);
        var cl = CodeLengthCode(0, 8, 16, 18);

        Assert.Contains("287 literal/length codes (at most 286)", Refusal(Codes(287, 1, cl), []));
        Assert.Contains("31 distance codes (at most 30)", Refusal(Codes(257, 31, cl), []));
        Assert.Contains("the code length code is over-subscribed: more codes of 1 bits than there are",
            Refusal(Codes(257, 1, [.. Enumerable.Repeat(1, 19)]), []));
        var single = new int[19];
        single[8] = 1;
        Assert.Contains("the code length code is incomplete", Refusal(Codes(257, 1, single), []));
        Assert.Contains("a code length repeats the previous one, and there is none", Refusal(Codes(257, 1, cl, (16, 0)), []));
        Assert.Contains("code lengths repeat past the 258 the block gives", Refusal(Codes(257, 1, cl, (18, 127), (18, 127), (8, 0)), []));
        Assert.Contains("the literal/length code has no end-of-block code",
            Refusal(Codes(257, 1, cl, (18, 127), (18, 107), (0, 0), (8, 0)), []));
        Assert.Contains("the literal/length code is incomplete",
            Refusal(Codes(257, 1, cl, (8, 0), (18, 127), (18, 106), (8, 0), (0, 0)), []));
        Assert.Contains("the literal/length code is over-subscribed: more codes of 8 bits than there are",
            Refusal(Codes(257, 1, cl, [(8, 0), .. Enumerable.Repeat((16, 3), 42), (16, 1), (8, 0)]), []));
        Assert.Contains("the distance code is over-subscribed: more codes of 1 bits than there are", Refusal(Dynamic(3, (1, 0), (1, 0), (1, 0)), []));
        Assert.Contains("the distance code is incomplete", Refusal(Dynamic(2, (1, 0), (8, 0)), []));
    }

    /// <summary>Thousands of valid streams cut short, with bits flipped, bytes changed, put in or taken out, and
    /// random bits after a valid header: each unpacks to the original bytes (a change the format does not see: the
    /// modification time, say) or is refused with a <see cref="GzipException"/>; nothing else escapes, nothing hangs.</summary>
    [Fact]
    public void MutatedStreamsGiveTheRightBytesOrAGzipException()
    {
        var random = new Random(1996);
        var originals = new List<(byte[] Data, byte[] Packed)>();
        foreach (var level in new[] { CompressionLevel.NoCompression, CompressionLevel.Fastest, CompressionLevel.Optimal, CompressionLevel.SmallestSize })
            foreach (int size in new[] { 1, 40, 1000, 20_000 })
                for (int kind = 0; kind < 4; kind++)
                {
                    var data = Sample(random, size, kind);
                    originals.Add((data, Pack(data, level)));
                }
        var window = Sample(random, 70_000, 1);
        originals.Add((window, Pack(window, CompressionLevel.SmallestSize)));
        var run = Enumerable.Repeat((byte)'a', 259).ToArray();
        originals.Add((run, Member(Dynamic(1, (1, 0)).Code(LiteralCodes['a'], 8).Code(LiteralCodes[285], 8).Code(0, 1).Code(LiteralCodes[256], 8), run)));

        int right = 0, refused = 0;
        for (int i = 0; i < 6000; i++)
        {
            var (data, packed) = originals[random.Next(originals.Count)];
            var mutated = Mutate(random, packed);
            try
            {
                var unpacked = Gzip.Unpack(mutated, Limit);
                Assert.True(data.AsSpan().SequenceEqual(unpacked), $"case {i}: {Convert.ToHexString(mutated)}");
                right++;
            }
            catch (GzipException)
            {
                refused++;
            }
        }
        Assert.True(refused > 5000 && right > 0, $"{right} right, {refused} refused");

        for (int i = 0; i < 3000; i++)
        {
            var noise = new byte[random.Next(1, 200)];
            random.NextBytes(noise);
            try
            {
                Gzip.Unpack([.. DeflateWriter.Header, .. noise], Limit); // random blocks can be valid; their trailer is not
                Assert.Fail($"noise {i} unpacked: {Convert.ToHexString(noise)}");
            }
            catch (GzipException)
            {
            }
        }
    }

    private static byte[] Mutate(Random random, byte[] packed)
    {
        var bytes = packed.ToList();
        for (int n = random.Next(1, 4); n > 0 && bytes.Count > 0; n--)
        {
            int at = random.Next(bytes.Count);
            switch (random.Next(6))
            {
                case 0:
                    bytes.RemoveRange(at, bytes.Count - at); // cut short
                    break;
                case 1:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 2:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 3:
                    bytes.RemoveRange(at, Math.Min(bytes.Count - at, random.Next(1, 8)));
                    break;
                case 4:
                    bytes.InsertRange(at, Enumerable.Range(0, random.Next(1, 8)).Select(_ => (byte)random.Next(256)));
                    break;
                default:
                    // a flip past the header, where the blocks are
                    if (bytes.Count > 18) bytes[random.Next(10, bytes.Count - 8)] ^= (byte)(1 << random.Next(8));
                    break;
            }
        }
        return [.. bytes];
    }

    /// <summary>A bomb (64 MiB of zeros in 64 KB) stops at the bound: refused as too large, having taken about the
    /// bound's memory, not the bomb's; the bound itself is allowed.</summary>
    [Fact]
    public void ABombIsRefusedAtTheBoundWithoutTakingMoreMemory()
    {
        var bomb = Pack(new byte[64 << 20], CompressionLevel.SmallestSize);
        Assert.True(bomb.Length < 100_000);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<GzipException>(() => Gzip.Unpack(bomb, Limit));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(e.TooLarge);
        Assert.Equal($"it unpacks to more than {Limit} bytes (a bound of the caller's)", e.Message);
        Assert.True(allocated < 3 * Limit, $"{allocated} bytes allocated");

        Assert.Equal(Limit, Gzip.Unpack(Pack(new byte[Limit], CompressionLevel.Optimal), Limit).Length);
        Assert.True(Assert.Throws<GzipException>(() => Gzip.Unpack(Pack(new byte[Limit + 1], CompressionLevel.Optimal), Limit)).TooLarge);
        Assert.True(Assert.Throws<GzipException>(() => Gzip.Unpack(Pack([1], CompressionLevel.NoCompression), 0)).TooLarge);
        Assert.False(Refused(Pack([1], CompressionLevel.NoCompression)[..^1]).TooLarge);
    }

    /// <summary>The engine unpacks /proc/config.gz itself: it does not use .NET's System.IO.Compression, whose native
    /// library brings its own zlib into the binary.</summary>
    [Fact]
    public void TheEngineDoesNotReferenceSystemIoCompression()
        => Assert.DoesNotContain(typeof(Gzip).Assembly.GetReferencedAssemblies(), a => a.Name == "System.IO.Compression");
}
