namespace Appliance.Config.Tests;

public class ExampleConfigTests
{
    public static TheoryData<string> Examples() => new(Directory.GetFiles(RepoPaths.Examples, "*.json").Select(Path.GetFileName)!);

    [Fact]
    public void TheThreeBoardExamplesExist() =>
        Assert.Equal(["qemu-virt.json", "router.json", "rpi4.json"],
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
}
