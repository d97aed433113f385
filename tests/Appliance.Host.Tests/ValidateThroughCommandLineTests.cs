using Xunit;
namespace Appliance.Host.Tests;

[CollectionDefinition(Name, DisableParallelization = true)]
public class ConsoleCollection
{
    /// <summary>Tests that swap Console.Out/Error; they run alone so no other test writes into their capture.</summary>
    public const string Name = "Console capture";
}

/// <summary>The `validate` verb as the binary's Main sees it: CommandLine.Run with Console output.</summary>
[Collection(ConsoleCollection.Name)]
public class ValidateThroughCommandLineTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CommandLineCapture.Run(args);

    [Fact]
    public void ValidExample()
    {
        string example = Path.Combine(RepoPaths.Root, "examples", "qemu-virt.json");
        var (code, stdout, stderr) = Run("validate", example, "--no-objects");
        Assert.Equal(0, code);
        Assert.StartsWith($"{example}: ok\n", stdout.ReplaceLineEndings("\n"));
        Assert.Empty(stderr);
    }

    [Fact]
    public void InvalidFile()
    {
        string path = Path.Combine(Path.GetTempPath(), $"mapp-validate-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, "{ \"board\": \"x\",\n  \"ports\": [ { \"name\": \"eth0\", \"unclaimed\": \"blackhole\" } ] }");
        try
        {
            var (code, stdout, stderr) = Run("validate", path);
            Assert.Equal(1, code);
            Assert.Empty(stdout);
            Assert.Equal($"{path}:2:45: $.ports[0].unclaimed: expected \"kernel\" or \"drop\", got a string (\"blackhole\") (netkit's \"blackhole\" is \"drop\" here)\n", stderr.ReplaceLineEndings("\n"));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void NoFileIsAUsageError()
    {
        var (code, _, stderr) = Run("validate");
        Assert.Equal(2, code);
        Assert.Contains("FILE is missing", stderr);
    }
}
