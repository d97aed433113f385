using System.Text.Json;
using Appliance.Config;
using Appliance.Datapath.Programs;
using Appliance.Host.Control;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Host.Tests.Control;

/// <summary>`maps` and a config's map contents on keys far larger than a program's stack (the kernel takes hash keys up
/// to 4 MiB less the value): TestPrograms/big_keys.bpf.c's 4096-byte hash keys and 1028-byte LRU hash keys are
/// filled from the config, listed, dumped, updated and deleted whole.</summary>
public sealed class MapEditorTests : IDisposable
{
    private readonly string _folder = Repository.TempFolder("mapp-map-editor-");

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Build(string program = "big_keys")
    {
        string source = Path.Combine(RepoPaths.Root, "tests", "Appliance.Bpf.Tests", "TestPrograms", program + ".bpf.c");
        Shell.Check("clang", "-O2", "-g", "-target", "bpf", "-mcpu=v3", "-I", Path.Combine(RepoPaths.Root, "programs", "include"),
            "-I", $"/usr/include/{Shell.Check("gcc", "-dumpmachine").Trim()}", "-c", source, "-o", Path.Combine(_folder, program + ".bpf.o"));
        return program + ".bpf.o";
    }

    /// <summary>A key of <paramref name="size"/> bytes, zero but for <paramref name="mark"/> at its first, middle and last byte, as hex.</summary>
    private static string Key(int size, byte mark)
    {
        var key = new byte[size];
        key[0] = key[size / 2] = key[^1] = mark;
        return Convert.ToHexString(key).ToLowerInvariant();
    }

    private static MapDatum Hex(string hex)
    {
        Assert.True(MapDatum.TryParseHex(hex, out var datum, out var problem), problem);
        return datum;
    }

    private ProgramSet Load(params (string Map, string Key, string Value)[] entries) => ProgramSet.Load(
    [
        new ProgramConfig
        {
            Name = "big", Object = Build(), Section = "tc",
            Maps = entries.GroupBy(e => e.Map).ToDictionary(g => g.Key,
                g => (IReadOnlyList<MapEntryConfig>)[.. g.Select(e => new MapEntryConfig { Key = Hex(e.Key), Value = Hex(e.Value) })]),
        },
    ], _folder, _folder);

    private static JsonElement[] Dump(MapEditor editor, string map) =>
        [.. JsonDocument.Parse(editor.Run(["dump", map], json: true)).RootElement.GetProperty("entries").EnumerateArray()];

    [Fact]
    public void KeysOfThousandsOfBytesAreFilledFromTheConfigAndEditedWhole()
    {
        string a = Key(4096, 0xa1), b = Key(4096, 0xb2), value = "0100000000000000";
        var editor = new MapEditor(Load(("big", a, value), ("mid_lru", Key(1028, 7), "0500000000000000")));

        var row = editor.Run(["list"], json: false).Split('\n').Single(l => l.StartsWith("big ", StringComparison.Ordinal));
        Assert.Equal(["big", "Hash", "4096", "8", "4"], row.Split(' ', StringSplitOptions.RemoveEmptyEntries)[..5]);
        var entry = Assert.Single(Dump(editor, "big"));
        Assert.Equal(a, entry.GetProperty("key").GetString());
        Assert.Equal(value, entry.GetProperty("value").GetString());
        Assert.Equal(Key(1028, 7), Assert.Single(Dump(editor, "mid_lru")).GetProperty("key").GetString());

        editor.Run(["update", "big", b, "42"], json: false);
        Assert.Equal(new[] { a, b }.Order(), Dump(editor, "big").Select(e => e.GetProperty("key").GetString()!).Order());
        editor.Run(["delete", "big", a], json: false);
        var left = Assert.Single(Dump(editor, "big"));
        Assert.Equal(b, left.GetProperty("key").GetString());
        Assert.Equal("2a00000000000000", left.GetProperty("value").GetString());

        // A key one byte short names the map's key size, and changes nothing.
        var shortKey = Assert.Throws<ArgumentException>(() => editor.Run(["update", "big", Key(4095, 1), "1"], json: false));
        Assert.Contains("does not fit the map's 4096-byte keys", shortKey.Message);
        Assert.Single(Dump(editor, "big"));
    }

    [Fact]
    public void AConfigKeyOfAnotherSizeIsRefusedNamingTheMapsKeySize()
    {
        var e = Assert.Throws<Datapath.Runtime.RuntimeSetupException>(() => Load(("big", Key(4097, 1), "0100000000000000")));
        Assert.Contains("map 'big' entry 0: the key does not fit the map's 4096-byte keys", e.Message);
    }

    /// <summary>An object's .kconfig map (its __kconfig externs, the running kernel's values) is listed and dumped as
    /// .rodata is, and refused for writes: the loader filled it, and it is frozen.</summary>
    [Fact]
    public void TheKconfigMapIsListedDumpedAndNotWritten()
    {
        var set = ProgramSet.Load([new ProgramConfig { Name = "kconfig", Object = Build("kconfig_values"), Section = "tc" }], _folder, _folder);
        var editor = new MapEditor(set);
        var row = editor.Run(["list"], json: false).Split('\n').Single(l => l.StartsWith(".kconfig ", StringComparison.Ordinal));
        Assert.Equal([".kconfig", "Array", "4", "70", "1"], row.Split(' ', StringSplitOptions.RemoveEmptyEntries)[..5]);
        var values = set.Objects.Single().Elf.Maps.Single(m => m.Name == ".kconfig").InitialValue!;
        var entry = Assert.Single(Dump(editor, ".kconfig"));
        Assert.Equal(Convert.ToHexStringLower(values), entry.GetProperty("value").GetString());
        Assert.Equal(Bpf.Objects.RunningKernel.Current().VersionCode, BitConverter.ToUInt32(values, 24)); // LINUX_KERNEL_VERSION, where libbpf places it

        var e = Assert.Throws<InvalidOperationException>(() => editor.Run(["update", ".kconfig", "0", "0"], json: false));
        Assert.Contains("map '.kconfig' is read-only (frozen once loaded, EPERM): it holds the running kernel's values of the object's __kconfig externs", e.Message);
        Assert.Throws<InvalidOperationException>(() => editor.Run(["delete", ".kconfig", "0"], json: false));
        Assert.Equal(Convert.ToHexStringLower(values), Assert.Single(Dump(editor, ".kconfig")).GetProperty("value").GetString());
    }
}
