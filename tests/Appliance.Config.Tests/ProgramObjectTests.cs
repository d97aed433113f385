namespace Appliance.Config.Tests;

/// <summary>Checks of program object files: only when asked for, through an inspector, located at the program.</summary>
public class ProgramObjectTests
{
    private static readonly ConfigLoadOptions CheckExistence = new() { ProgramObjects = FileExistenceInspector.Instance };

    [Fact]
    public void WithoutAnInspectorObjectFilesAreNotLookedAt()
    {
        using var folder = new TempFolder();
        Assert.True(ConfigLoader.LoadFile(folder.Write("config.json", ConfigTexts.Valid)).IsValid);
    }

    [Fact]
    public void MissingObjectFilesAreReportedWithTheirFullPath()
    {
        using var folder = new TempFolder();
        string path = folder.Write("config.json", ConfigTexts.Valid);
        folder.Write("counter.bpf.o", "placeholder");
        var error = Assert.Single(ConfigLoader.LoadFile(path, CheckExistence).Errors);
        var (line, column) = ConfigTexts.At(ConfigTexts.Valid, "\"allow_port.bpf.o\"");
        string missing = Path.Combine(folder.Path, "allow_port.bpf.o");
        Assert.Equal(new ConfigError(path, line, column, "$.programs[0].object",
            $"object file not found: {missing} (paths are relative to the config file; build the programs or fix the path, or give --objects DIR to look them up by file name, e.g. --objects out/programs)"), error);
    }

    [Fact]
    public void ObjectPathsAreRelativeToTheConfigFile()
    {
        using var folder = new TempFolder();
        string text = ConfigTexts.Replace(ConfigTexts.With("\"allow_port.bpf.o\"", "\"../objs/allow_port.bpf.o\""), "\"counter.bpf.o\"", "\"../objs/counter.bpf.o\"");
        string path = folder.Write("etc/config.json", text);
        folder.Write("objs/allow_port.bpf.o", "x");
        folder.Write("objs/counter.bpf.o", "x");
        Assert.True(ConfigLoader.LoadFile(path, CheckExistence).IsValid);
    }

    [Fact]
    public void AnObjectDirectoryOverridesTheFolderByFileName()
    {
        using var folder = new TempFolder();
        string path = folder.Write("config.json", ConfigTexts.With("\"allow_port.bpf.o\"", "\"../programs/allow_port.bpf.o\""));
        folder.Write("out/allow_port.bpf.o", "x");
        folder.Write("out/counter.bpf.o", "x");
        var options = CheckExistence with { ObjectDirectory = Path.Combine(folder.Path, "out") };
        Assert.True(ConfigLoader.LoadFile(path, options).IsValid);
    }

    /// <summary>Many programs from one object and section cost one inspection (a load and a verification), as `run`
    /// loads and verifies each object's section once: 40,000 such entries took validate 14 s (found by fuzzing).</summary>
    [Fact]
    public void EachObjectAndSectionIsInspectedOnce()
    {
        var programs = Enumerable.Range(0, 1000).Select(i => $$"""{ "name": "c{{i}}", "object": "{{(i % 2 == 0 ? "counter.bpf.o" : "./counter.bpf.o")}}", "section": "tc" }""")
            .Append("""{ "name": "allow", "object": "allow_port.bpf.o", "section": "netkit/peer" }""");
        string text = $$"""{ "board": "qemu-virt", "ports": [{ "name": "eth0" }], "programs": [{{string.Join(",", programs)}}] }""";
        var inspector = FakeInspector.FromProgramSources();
        var result = ConfigLoader.LoadBytes(System.Text.Encoding.UTF8.GetBytes(text), "config.json", "/etc/mapp", new ConfigLoadOptions { ProgramObjects = inspector });
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Equal([("/etc/mapp/counter.bpf.o", "tc"), ("/etc/mapp/allow_port.bpf.o", "netkit/peer")], inspector.Calls);
    }

    [Fact]
    public void ADirectoryIsNotAnObjectFile()
    {
        using var folder = new TempFolder();
        string path = folder.Write("config.json", ConfigTexts.Valid);
        Directory.CreateDirectory(Path.Combine(folder.Path, "allow_port.bpf.o"));
        folder.Write("counter.bpf.o", "x");
        var error = Assert.Single(ConfigLoader.LoadFile(path, CheckExistence).Errors);
        Assert.Equal($"object path {Path.Combine(folder.Path, "allow_port.bpf.o")} is a directory; expected an eBPF object file (.o)", error.Message);
    }

    [Fact]
    public void TheInspectorIsAskedForEachProgramWithItsSection()
    {
        var inspector = FakeInspector.FromProgramSources();
        Assert.True(ConfigTexts.LoadText(ConfigTexts.Valid, "/etc/mapp/config.json", new() { ProgramObjects = inspector }).IsValid);
        Assert.Equal([("/etc/mapp/allow_port.bpf.o", "netkit/peer"), ("/etc/mapp/counter.bpf.o", "tc")], inspector.Calls);
    }

    [Fact]
    public void SectionMissingFromTheObject()
    {
        var inspector = new FakeInspector(new()
        {
            ["allow_port.bpf.o"] = new(null, ["tc", "xdp"], null),
            ["counter.bpf.o"] = ProgramObjectReport.ExistsOnly,
        });
        var error = Assert.Single(ConfigTexts.Load(ConfigTexts.Valid, inspector).Errors);
        var (line, column) = ConfigTexts.At(ConfigTexts.Valid, "\"netkit/peer\", \"maps\"");
        Assert.Equal(new ConfigError("config.json", line, column, "$.programs[0].section", "section \"netkit/peer\" is not in allow_port.bpf.o (it has: tc, xdp)"), error);
    }

    [Fact]
    public void InspectorProblemsAreReportedAtTheObject()
    {
        var inspector = new FakeInspector(new()
        {
            ["allow_port.bpf.o"] = ProgramObjectReport.Fails("verifier: instruction 7: invalid memory access"),
            ["counter.bpf.o"] = ProgramObjectReport.ExistsOnly,
        });
        var error = Assert.Single(ConfigTexts.Load(ConfigTexts.Valid, inspector).Errors);
        Assert.Equal(("$.programs[0].object", "verifier: instruction 7: invalid memory access"), (error.JsonPath, error.Message));
    }

    [Fact]
    public void MapContentsAreCheckedAgainstTheDeclaredMaps()
    {
        string text = ConfigTexts.With("\"maps\": { \"allowed_ports\": [{ \"key\": 22, \"value\": 0 }] }",
            "\"maps\": { \"allowed_ports\": [{ \"key\": 70000, \"value\": \"0102\" }], \"blocked\": [] }");
        var errors = ConfigTexts.Load(text, FakeInspector.FromProgramSources()).Errors;
        Assert.Equal(
        [
            new ConfigError("config.json", ConfigTexts.At(text, "70000").Line, ConfigTexts.At(text, "70000").Column, "$.programs[0].maps.allowed_ports[0].key", "key 70000 does not fit the map's 2-byte key"),
            new ConfigError("config.json", ConfigTexts.At(text, "\"0102\"").Line, ConfigTexts.At(text, "\"0102\"").Column, "$.programs[0].maps.allowed_ports[0].value", "value is 2 bytes; the map's value size is 8 bytes"),
            new ConfigError("config.json", ConfigTexts.At(text, "[] }").Line, ConfigTexts.At(text, "[] }").Column, "$.programs[0].maps.blocked", "object allow_port.bpf.o declares no map \"blocked\" (expected one of: allowed_ports)"),
        ], errors);
    }

    [Fact]
    public void TooManyInitialEntries()
    {
        string entries = string.Join(", ", Enumerable.Range(0, 3).Select(i => $"{{ \"key\": {i}, \"value\": 0 }}"));
        string text = ConfigTexts.With("\"counter.bpf.o\", \"section\": \"tc\" }", $"\"lpm_acl.bpf.o\", \"section\": \"tc\", \"maps\": {{ \"acl_hits\": [{entries}] }} }}");
        var inspector = new FakeInspector(new()
        {
            ["allow_port.bpf.o"] = ProgramObjectReport.ExistsOnly,
            ["lpm_acl.bpf.o"] = new(null, ["tc"], new Dictionary<string, ProgramMapShape> { ["acl_hits"] = new(4, 8, 2) }),
        });
        var error = Assert.Single(ConfigTexts.Load(text, inspector).Errors);
        Assert.Equal(("$.programs[1].maps.acl_hits", "3 entries, but map \"acl_hits\" holds at most 2"), (error.JsonPath, error.Message));
    }

    [Fact]
    public void AMapTheConfigCannotFillIsRefusedWithTheReason()
    {
        // A DEVMAP of an XDP tutorial's object (the appliance has none), or a map of maps.
        string text = ConfigTexts.With("\"counter.bpf.o\", \"section\": \"tc\" }", "\"mixed.bpf.o\", \"section\": \"tc\", \"maps\": { \"tx_port\": [{ \"key\": 0, \"value\": 3 }], \"seen\": [] } }");
        var inspector = new FakeInspector(new()
        {
            ["allow_port.bpf.o"] = ProgramObjectReport.ExistsOnly,
            ["mixed.bpf.o"] = new(null, ["tc"], new Dictionary<string, ProgramMapShape>
            {
                ["tx_port"] = new(4, 4, 8, "map type 14 (BPF_MAP_TYPE_DEVMAP) is not supported"),
                ["seen"] = new(4, 8, 4, "its slots hold maps"),
            }),
        });
        var error = Assert.Single(ConfigTexts.Load(text, inspector).Errors); // "seen": [] asks for nothing
        Assert.Equal(("$.programs[1].maps.tx_port", "map \"tx_port\" cannot be given contents: map type 14 (BPF_MAP_TYPE_DEVMAP) is not supported"),
            (error.JsonPath, error.Message));
    }
}
