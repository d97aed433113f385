namespace Appliance.Config.Tests;

public class ExampleConfigTests
{
    public static TheoryData<string> Examples() => new(Directory.GetFiles(RepoPaths.Examples, "*.json").Select(Path.GetFileName)!);

    [Fact]
    public void TheBoardExamplesExist() =>
        Assert.Equal(["l3.json", "qemu-virt.json", "router.json", "rpi4.json"],
            Directory.GetFiles(RepoPaths.Examples, "*.json").Select(Path.GetFileName).Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(Examples))]
    public void ExampleLoadsWithoutErrors(string name)
    {
        var result = ConfigLoader.LoadFile(Path.Combine(RepoPaths.Examples, name));
        Assert.Empty(result.Errors.Select(e => e.ToString()));
        Assert.True(result.IsValid);
        Assert.NotEmpty(result.Config!.Pairs);
        Assert.NotEmpty(result.Config.Programs);
    }

    /// <summary>The object files the examples may name: built by programs/Makefile from programs/*.bpf.c into out/programs.</summary>
    private static readonly string[] ProgramObjects =
        ["allow_port.bpf.o", "counter.bpf.o", "vlan_tag.bpf.o", "rewrite.bpf.o", "redirect_map.bpf.o", "lpm_acl.bpf.o"];

    [Theory]
    [MemberData(nameof(Examples))]
    public void ExampleNamesOnlyProgramsThatHaveASource(string name)
    {
        var config = ConfigLoader.LoadFile(Path.Combine(RepoPaths.Examples, name)).Config!;
        foreach (var program in config.Programs)
        {
            Assert.StartsWith("../programs/", program.Object);
            string file = Path.GetFileName(program.Object);
            Assert.Contains(file, ProgramObjects);
            Assert.True(File.Exists(Path.Combine(RepoPaths.Root, "programs", file.Replace(".bpf.o", ".bpf.c"))), $"{name}: no source for {file}");
        }
    }

    /// <summary>
    /// Object files are build artifacts (out/programs), not in the source tree. The honest check: a copy of the
    /// example beside placeholder objects at the paths it names passes the existence check and an inspector that
    /// knows the sections and map sizes of programs/*.bpf.c; without the objects, each one is reported by path.
    /// </summary>
    [Theory]
    [MemberData(nameof(Examples))]
    public void ExampleObjectsAndMapContentsFitThePrograms(string name)
    {
        using var folder = new TempFolder();
        string config = folder.Write(Path.Combine("examples", name), File.ReadAllText(Path.Combine(RepoPaths.Examples, name)));
        var existence = new ConfigLoadOptions { ProgramObjects = FileExistenceInspector.Instance };

        var missing = ConfigLoader.LoadFile(config, existence);
        var objects = ConfigLoader.LoadFile(config).Config!.Programs.Select(p => p.Object).ToList();
        Assert.Equal(objects.Count, missing.Errors.Count);
        Assert.All(missing.Errors, e => Assert.StartsWith("object file not found: " + Path.Combine(folder.Path, "programs"), e.Message));

        foreach (var file in objects.Distinct()) folder.Write(Path.Combine("examples", file), "placeholder");
        Assert.Empty(ConfigLoader.LoadFile(config, existence).Errors);
        Assert.Empty(ConfigLoader.LoadFile(config, new ConfigLoadOptions { ProgramObjects = FakeInspector.FromProgramSources() }).Errors);
    }
}
