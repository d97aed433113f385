using System.IO.Compression;
using System.Text;
using Appliance.Bpf.Objects;
using Xunit;

namespace Appliance.Bpf.Tests.Elf;

/// <summary>The kernel config reader, line by line as libbpf's: which lines count, what each value fits, and the
/// lines libbpf refuses the whole config over; and the config file itself, plain or gzip'd, with its bound.</summary>
public sealed class KconfigFileTests
{
    private static readonly KconfigExtern Hz = new("CONFIG_HZ", false, KconfigType.Int, 4, 4, true);
    private static readonly KconfigExtern Flag = new("CONFIG_FLAG", false, KconfigType.Bool, 1, 1, false);
    private static readonly KconfigExtern Tri = new("CONFIG_TRI", false, KconfigType.Tristate, 4, 4, false);
    private static readonly KconfigExtern Letter = new("CONFIG_LETTER", false, KconfigType.Char, 1, 1, false);
    private static readonly KconfigExtern Text = new("CONFIG_TEXT", false, KconfigType.CharArray, 4, 1, false);

    /// <summary>Applies <paramref name="config"/> to the externs, each at its own 8 bytes.</summary>
    private static (string? Why, KconfigValues Values) Apply(string config, params KconfigExtern[] externs)
    {
        var placed = externs.Select((e, i) => e with { Offset = i * 8 }).ToList();
        var values = new KconfigValues(placed, externs.Length * 8);
        return (KconfigFile.Apply(Encoding.Latin1.GetBytes(config), "test.config", values), values);
    }

    private static byte[] At(KconfigValues values, int index, int size) => values.Data.AsSpan(index * 8, size).ToArray();

    [Fact]
    public void OnlyLinesStartingConfigCountAndTheFirstValueWins()
    {
        var (why, values) = Apply("#\n# CONFIG_FLAG is not set\ngarbage without an equals sign\n =x\n\0CONFIG_HZ\n"
            + "CONFIG_HZ=100\nCONFIG_HZ=300\nCONFIG_HZ=not a number, but CONFIG_HZ is set already\nCONFIG_UNKNOWN=\"anything\"\n", Hz, Flag);
        Assert.Null(why);
        Assert.Equal(BitConverter.GetBytes(100), At(values, 0, 4));
        Assert.True(values.IsSet(0));
        Assert.False(values.IsSet(1)); // "is not set" leaves it unset: 0 when weak, refused when not
    }

    [Theory]
    [InlineData("CONFIG_OTHER\n", "test.config line 2: 'CONFIG_OTHER' has no '='")]
    [InlineData("CONFIG_HZ=\n", "test.config line 2: 'CONFIG_HZ=' has no value")]
    [InlineData("CONFIG_OTHER=", "test.config line 2: 'CONFIG_OTHER=' has no value")]
    [InlineData("CONFIG_HZ=250\r\n", "extern (__kconfig) 'CONFIG_HZ': value 0x3235300D (4 bytes) is not a number")]
    [InlineData("CONFIG_HZ=0x\n", "value '0x' is not a number")]
    [InlineData("CONFIG_HZ=08\n", "value '08' is not a number")]
    [InlineData("CONFIG_HZ=-\n", "value '-' is not a number")]
    [InlineData("CONFIG_HZ=18446744073709551616\n", "value '18446744073709551616' is not a number")]
    [InlineData("CONFIG_HZ=2147483648\n", "value 2147483648 (0x80000000) does not fit its 4 bytes (signed)")]
    [InlineData("CONFIG_HZ=-2147483649\n", "does not fit its 4 bytes (signed)")]
    [InlineData("CONFIG_HZ=y\n", "value 'y' is a bool's, tristate's or char's, and the extern is a 4-byte integer")]
    [InlineData("CONFIG_HZ=\"250\"\n", "value '\"250\"' is a string, and the extern is a 4-byte integer")]
    [InlineData("CONFIG_FLAG=m\n", "value 'm' is a tristate's, and the extern is a bool")]
    [InlineData("CONFIG_FLAG=1\n", "value '1' is a number, and the extern is a bool")]
    [InlineData("CONFIG_TRI=2\n", "value '2' is a number, and the extern is an enum libbpf_tristate")]
    [InlineData("CONFIG_LETTER=256\n", "value 256 (0x100) does not fit its 1 byte")]
    [InlineData("CONFIG_LETTER=-1\n", "value 18446744073709551615 (0xffffffffffffffff) does not fit its 1 byte")]
    [InlineData("CONFIG_TEXT=\"unterminated\n", "value '\"unterminated' is not a quoted string")]
    [InlineData("CONFIG_TEXT=\"\n", "value '\"' is not a quoted string")]
    public void AValueThatDoesNotFitOrALineLibbpfCannotReadRefusesTheConfig(string line, string expected)
    {
        var (why, _) = Apply("# the first line\n" + line, Hz, Flag, Tri, Letter, Text);
        Assert.NotNull(why);
        Assert.Contains(expected, why);
    }

    [Fact]
    public void NumbersAreReadAsStrtoullReadsThemAndMustFit()
    {
        var u16 = new KconfigExtern("CONFIG_U16", false, KconfigType.Int, 2, 2, false);
        var u64 = new KconfigExtern("CONFIG_U64", false, KconfigType.Int, 8, 8, false);
        var s8 = new KconfigExtern("CONFIG_S8", false, KconfigType.Char, 1, 1, true);
        var (why, values) = Apply("CONFIG_HZ=-1\nCONFIG_U16=0xffff\nCONFIG_U64=18446744073709551615\nCONFIG_S8=-128\nCONFIG_LETTER=0101\n",
            Hz, u16, u64, s8, Letter);
        Assert.Null(why);
        Assert.Equal(BitConverter.GetBytes(-1), At(values, 0, 4));
        Assert.Equal(BitConverter.GetBytes((ushort)0xffff), At(values, 1, 2));
        Assert.Equal(BitConverter.GetBytes(ulong.MaxValue), At(values, 2, 8));
        Assert.Equal([0x80], At(values, 3, 1));
        Assert.Equal([65], At(values, 4, 1)); // octal 0101

        Assert.Contains("value 65536 (0x10000) does not fit its 2 bytes", Apply("CONFIG_U16=65536\n", u16).Why);
        Assert.Contains("value 18446744073709551615 (0xffffffffffffffff) does not fit its 2 bytes", Apply("CONFIG_U16=-1\n", u16).Why);
        Assert.Contains("does not fit its 1 byte (signed)", Apply("CONFIG_S8=-129\n", s8).Why);
        Assert.Contains("does not fit its 1 byte (signed)", Apply("CONFIG_S8=128\n", s8).Why);
    }

    [Fact]
    public void LettersStringsAndTristates()
    {
        var (why, values) = Apply("CONFIG_FLAG=yes\nCONFIG_TRI=m\nCONFIG_LETTER=y\nCONFIG_TEXT=\"(none)\"\n", Flag, Tri, Letter, Text);
        Assert.Null(why);
        Assert.Equal([1], At(values, 0, 1)); // only the first byte counts, as in libbpf
        Assert.Equal(BitConverter.GetBytes(2), At(values, 1, 4)); // TRI_MODULE
        Assert.Equal("y"u8.ToArray(), At(values, 2, 1));
        Assert.Equal("(no\0"u8.ToArray(), At(values, 3, 4)); // cut to the char[4] with its NUL

        (why, values) = Apply("CONFIG_FLAG=n\nCONFIG_TRI=y\nCONFIG_TEXT=\"\"\n", Flag, Tri, Text);
        Assert.Null(why);
        Assert.Equal([0], At(values, 0, 1));
        Assert.Equal(BitConverter.GetBytes(1), At(values, 1, 4));
        Assert.Equal([0, 0, 0, 0], At(values, 2, 4));
    }

    /// <summary>A NUL ends a line's text as it ends libbpf's C string; a line longer than libbpf's 4095-byte buffer goes
    /// on as a line of its own, which counts when it starts with CONFIG_ (a quoted string that long is cut before its
    /// closing quote, which libbpf refuses).</summary>
    [Fact]
    public void NulBytesAndOverlongLinesAreReadAsLibbpfReadsThem()
    {
        var (why, values) = Apply("CONFIG_HZ=25\0junk\n# " + new string('x', KconfigFile.MaxLine - 2) + "CONFIG_LETTER=7\n", Hz, Letter);
        Assert.Null(why);
        Assert.Equal(BitConverter.GetBytes(25), At(values, 0, 4));
        Assert.Equal([7], At(values, 1, 1));

        string longString = "CONFIG_TEXT=\"" + new string('a', 5000) + "\"\n";
        Assert.Contains("line 1: extern (__kconfig) 'CONFIG_TEXT': value '\"aaaa", Apply(longString, Text).Why);
        Assert.Null(Apply(longString, Hz).Why); // the same line, for an extern the object does not have: skipped
    }

    [Fact]
    public void AConfigFileIsReadPlainOrGzippedAndBounded()
    {
        var dir = Directory.CreateTempSubdirectory("mapp-kconfig-").FullName;
        try
        {
            var text = "CONFIG_HZ=250\n"u8.ToArray();
            File.WriteAllBytes(Path.Combine(dir, "plain"), text);
            File.WriteAllBytes(Path.Combine(dir, "config.gz"), Gzip(text));
            Assert.Equal(text, RunningKernel.ReadConfigFile(Path.Combine(dir, "plain")).Text);
            Assert.Equal(text, RunningKernel.ReadConfigFile(Path.Combine(dir, "config.gz")).Text);

            var missing = RunningKernel.ReadConfigFile(Path.Combine(dir, "absent"));
            Assert.Null(missing.Text);
            Assert.Contains("absent", missing.Source);

            var corrupt = Gzip(text);
            corrupt[^8] ^= 0xff; // the CRC
            File.WriteAllBytes(Path.Combine(dir, "corrupt.gz"), corrupt);
            Assert.Null(RunningKernel.ReadConfigFile(Path.Combine(dir, "corrupt.gz")).Text);

            File.WriteAllBytes(Path.Combine(dir, "bomb.gz"), Gzip(new byte[RunningKernel.MaxConfigBytes + 1]));
            var e = Assert.Throws<BpfLoadException>(() => RunningKernel.ReadConfigFile(Path.Combine(dir, "bomb.gz")));
            Assert.Contains("the kernel's config is larger than 16 MiB", e.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("6.18.44-fc-v1272", "#1 SMP PREEMPT_DYNAMIC", null, 0x06122c)]
    [InlineData("5.10.300", "#1 SMP", null, 0x050aff)] // the patch level is capped at 255, as KERNEL_VERSION caps it
    [InlineData("4.19.0-22-amd64", "#1 SMP Debian 4.19.260-1 (2022-09-29)", null, 0x0413ff)]
    [InlineData("5.15.0-91-generic", "#101-Ubuntu SMP", "Ubuntu 5.15.0-91.101-generic 5.15.131", 0x050f83)]
    [InlineData("6.8", "#1", null, 0)]
    public void TheKernelVersionIsLibbpfs(string release, string version, string? signature, uint expected)
    {
        var kernel = new RunningKernel(release, version, signature, () => new(null, "none"), false, false, System.Runtime.InteropServices.Architecture.X64);
        Assert.Equal(expected, kernel.VersionCode);
    }

    private static byte[] Gzip(byte[] data)
    {
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(data);
        return output.ToArray();
    }
}
