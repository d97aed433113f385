using System.Text;

namespace Appliance.Config.Tests;

/// <summary>Encodings, empty and oversized files, unreadable paths: one clear error each, never an exception.</summary>
public class FileLevelTests
{
    private static ConfigError Only(ConfigLoadResult result)
    {
        Assert.False(result.IsValid);
        Assert.Null(result.Config);
        return Assert.Single(result.Errors);
    }

    private static ConfigLoadResult LoadBytes(byte[] bytes) => ConfigLoader.LoadBytes(bytes, "config.json", "/tmp");

    [Theory]
    [InlineData("")]
    [InlineData("   \r\n\t\n")]
    public void EmptyFile(string text) =>
        Assert.Equal(new ConfigError("config.json", 1, 1, "$", "file is empty; expected a JSON object like { \"board\": \"qemu-virt\", ... }"), Only(ConfigTexts.Load(text)));

    [Fact]
    public void Utf16LittleEndianWithBom() =>
        Assert.Equal("config.json:1:1: $: file is encoded as UTF-16 (little-endian BOM); save it as UTF-8 (with or without BOM)",
            Only(LoadBytes(Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes(ConfigTexts.Valid)).ToArray())).ToString());

    [Fact]
    public void Utf16BigEndianWithBom() =>
        Assert.Equal("file is encoded as UTF-16 (big-endian BOM); save it as UTF-8 (with or without BOM)",
            Only(LoadBytes(Encoding.BigEndianUnicode.GetPreamble().Concat(Encoding.BigEndianUnicode.GetBytes(ConfigTexts.Valid)).ToArray())).Message);

    [Fact]
    public void Utf16WithoutBom() =>
        Assert.Equal("file is encoded as UTF-16 (little-endian, no BOM); save it as UTF-8 (with or without BOM)",
            Only(LoadBytes(Encoding.Unicode.GetBytes(ConfigTexts.Valid))).Message);

    [Fact]
    public void Utf32WithBom() =>
        Assert.Equal("file is encoded as UTF-32 (little-endian BOM); save it as UTF-8 (with or without BOM)",
            Only(LoadBytes(Encoding.UTF32.GetPreamble().Concat(Encoding.UTF32.GetBytes(ConfigTexts.Valid)).ToArray())).Message);

    [Fact]
    public void InvalidUtf8IsLocated()
    {
        // A Latin-1 "é" (0xE9) inside the board name on line 2, as a Windows editor might save it.
        byte[] bytes = Encoding.UTF8.GetBytes(ConfigTexts.With("\"qemu-virt\"", "\"qemu-virt-X\""));
        int at = Array.IndexOf(bytes, (byte)'X');
        bytes[at] = 0xE9;
        var error = Only(LoadBytes(bytes));
        Assert.Equal(new ConfigError("config.json", 2, 23, "$", $"invalid UTF-8 (byte 0xE9 at offset {at}); save the file as UTF-8"), error);
    }

    [Fact]
    public void Utf8BomIsAcceptedAndColumnsIgnoreIt()
    {
        byte[] bom = [0xEF, 0xBB, 0xBF];
        Assert.True(LoadBytes(bom.Concat(Encoding.UTF8.GetBytes(ConfigTexts.Valid)).ToArray()).IsValid);

        string text = ConfigTexts.With("\"uplink\": \"eth0\"", "\"uplink\": \"eth9\"");
        var error = Only(LoadBytes(bom.Concat(Encoding.UTF8.GetBytes(text)).ToArray()));
        Assert.Equal((11, 17), (error.Line, error.Column));

        var firstLine = Only(LoadBytes(bom.Concat("{ \"bogus\": 1, \"board\": \"x\" }"u8.ToArray()).ToArray()));
        Assert.Equal((1, 3), (firstLine.Line, firstLine.Column));
    }

    [Fact]
    public void CrLfLineEndingsAreAccepted()
    {
        Assert.True(ConfigTexts.Load(ConfigTexts.Valid.Replace("\n", "\r\n")).IsValid);
        var error = Only(ConfigTexts.Load(ConfigTexts.With("\"uplink\": \"eth0\"", "\"uplink\": \"eth9\"").Replace("\n", "\r\n")));
        Assert.Equal((11, 17), (error.Line, error.Column));
    }

    [Fact]
    public void ColumnsCountCharactersNotBytes()
    {
        // "ü" is two bytes in UTF-8 but one column in an editor.
        var error = Only(ConfigTexts.Load("{ \"$schema\": \"für\", \"board\": \"b\", \"bogus\": 1 }"));
        Assert.Equal((1, 35), (error.Line, error.Column));
    }

    [Fact]
    public void TenMegabyteFileIsRefusedBeforeParsing()
    {
        string path = Path.Combine(Path.GetTempPath(), $"mapp-config-{Guid.NewGuid():N}.json");
        try
        {
            using (var f = File.Create(path))
            {
                f.Write("{ \"board\": \"x\", \"pad\": \""u8);
                var chunk = new byte[1024 * 1024];
                Array.Fill(chunk, (byte)'a');
                for (int i = 0; i < 10; i++) f.Write(chunk);
                f.Write("\" }"u8);
            }
            long size = new FileInfo(path).Length;
            var error = Only(ConfigLoader.LoadFile(path));
            Assert.Equal(new ConfigError(path, 1, 1, "$", $"file is {size} bytes; a config may be at most 4194304 bytes (4 MiB)"), error);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void TenMegabyteTextIsRefused()
    {
        string text = "{ \"board\": \"x\", \"pad\": \"" + new string('a', 10 * 1024 * 1024) + "\" }";
        Assert.Equal($"file is {Encoding.UTF8.GetByteCount(text)} bytes; a config may be at most 4194304 bytes (4 MiB)", Only(ConfigTexts.Load(text)).Message);
    }

    [Fact]
    public void LargeButAllowedFileReportsEveryError()
    {
        // 3 MiB of map contents with 20 000 bad keys: all are reported, each at its own line.
        var sb = new StringBuilder(ConfigTexts.Valid.Length + 3_000_000);
        sb.Append(ConfigTexts.Valid[..ConfigTexts.Valid.IndexOf("\"allowed_ports\"", StringComparison.Ordinal)]);
        sb.Append("\"allowed_ports\": [\n");
        for (int i = 0; i < 20_000; i++) sb.Append("{ \"key\": \"0x01\", \"value\": 0 },").Append(' ', 100).Append('\n');
        sb.Append("] } },\n");
        sb.Append(ConfigTexts.Valid[(ConfigTexts.Valid.IndexOf("    { \"name\": \"count\"", StringComparison.Ordinal))..]);
        var result = ConfigTexts.Load(sb.ToString());
        Assert.Equal(20_000, result.Errors.Count);
        Assert.Equal((25 + 20_000, 10), (result.Errors[^1].Line, result.Errors[^1].Column));
        Assert.Equal("$.programs[0].maps.allowed_ports[19999].key", result.Errors[^1].JsonPath);
    }

    [Fact]
    public void MissingFile()
    {
        string path = Path.Combine(Path.GetTempPath(), $"mapp-missing-{Guid.NewGuid():N}.json");
        Assert.Equal(new ConfigError(path, 1, 1, "$", "file not found"), Only(ConfigLoader.LoadFile(path)));
    }

    [Fact]
    public void DirectoryInsteadOfFile() =>
        Assert.Equal("is a directory; expected a JSON config file", Only(ConfigLoader.LoadFile(Path.GetTempPath())).Message);

    /// <summary>`validate ''` used to answer with .NET's "The value cannot be an empty string. (Parameter 'path')".</summary>
    [Fact]
    public void AnEmptyPathIsNamedAsSuch() =>
        Assert.Equal("no config file named (the path is empty)", Only(ConfigLoader.LoadFile("")).Message);

    /// <summary>A named pipe nobody writes is given up after 5 s (before, open(2) on it blocked for ever: a reload held
    /// every control verb with it); one that is written (as `validate &lt;(command)` gives) is read to its end; a device
    /// (/dev/zero never ends) is refused as not a regular file. The load runs beside the test, so a hang fails it
    /// instead of stopping the run.</summary>
    [Fact]
    public async Task ANamedPipeIsReadWithinItsTimeAndADeviceIsRefused()
    {
        using var folder = new TempFolder();
        string fifo = Path.Combine(folder.Path, "config.json");
        var mkfifo = System.Diagnostics.Process.Start("mkfifo", fifo)!;
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
        var load = Task.Run(() => ConfigLoader.LoadFile(fifo));
        if (await Task.WhenAny(load, Task.Delay(TimeSpan.FromSeconds(60))) != load)
        {
            using (File.OpenHandle(fifo, FileMode.Open, FileAccess.Write, FileShare.ReadWrite)) { } // lets the blocked open return, so the run goes on
            Assert.Fail("LoadFile blocked on a named pipe nobody writes");
        }
        Assert.Equal("cannot read the file: is a named pipe that gave no end of file within 5 s", Only(await load).Message);

        // A writer that comes after the reader opened: its text is what is loaded (an error about the text, not the file).
        var written = Task.Run(() => ConfigLoader.LoadFile(fifo));
        await Task.Delay(200);
        await File.WriteAllTextAsync(fifo, "{ \"board\": 5 }");
        var error = Only(await written);
        Assert.Equal("$.board", error.JsonPath);
        Assert.DoesNotContain("cannot read the file", error.Message);

        string device = Path.Combine(folder.Path, "zero.json");
        File.CreateSymbolicLink(device, "/dev/zero");
        Assert.Equal("cannot read the file: is a character device, not a regular file", Only(ConfigLoader.LoadFile(device)).Message);
    }
}
