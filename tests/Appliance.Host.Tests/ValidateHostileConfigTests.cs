using System.Text.Json;
using System.Text.RegularExpressions;
using Appliance.Config;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Host.Tests;

/// <summary>`validate` on a hostile config at the 4 MiB limit (scripts/hostile-config.py: 200,000 pairs, each
/// with errors), run as the published binary: every error is counted, the output is bounded.</summary>
public sealed class ValidateHostileConfigTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("mapp-hostile-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void A200000PairConfigGetsItsErrorsAndAtMostAHundredArePrinted()
    {
        string file = Path.Combine(_folder, "hostile.json");
        File.WriteAllText(file, Shell.Check("python3", Path.Combine(RepoPaths.Root, "scripts", "hostile-config.py"), "200000"));
        long size = new FileInfo(file).Length;
        Assert.InRange(size, 3L << 20, ConfigLimits.MaxFileBytes);

        // What the loader finds: every pair has an error of its own, the last one too.
        var loaded = ConfigLoader.LoadFile(file);
        var paths = loaded.Errors.Select(e => e.JsonPath).ToHashSet(StringComparer.Ordinal);
        Assert.Contains(paths, p => p.StartsWith("$.pairs[199999]", StringComparison.Ordinal));
        Assert.Equal(200_000, loaded.Errors.Select(e => Regex.Match(e.JsonPath, @"^\$\.pairs\[\d+\]").Value).Distinct().Count());

        var text = Shell.RunWithTimeout(TimeSpan.FromMinutes(10), RepoPaths.Binary("linux-x64"), "validate", file, "--no-objects");
        Assert.Equal(1, text.ExitCode);
        Assert.Empty(text.StdOut);
        string[] lines = text.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(101, lines.Length);
        Assert.Equal($"{file}: and {loaded.Errors.Count - 100} more errors ({loaded.Errors.Count} in all; the first 100 are shown, --max-errors 0 shows all)", lines[^1]);
        Assert.Equal(loaded.Errors.Take(100).Select(e => e.ToString()), lines[..100]);
        Assert.True(text.StdErr.Length < 64 * 1024, $"{text.StdErr.Length} bytes of errors");

        var json = Shell.RunWithTimeout(TimeSpan.FromMinutes(10), RepoPaths.Binary("linux-x64"), "validate", file, "--no-objects", "--json", "--max-errors", "7");
        Assert.Equal(1, json.ExitCode);
        using var doc = JsonDocument.Parse(json.StdOut);
        Assert.Equal(7, doc.RootElement.GetArrayLength());
        Assert.Equal(loaded.Errors[6].Message, doc.RootElement[6].GetProperty("message").GetString());
        Assert.StartsWith($"{file}: and {loaded.Errors.Count - 7} more errors", json.StdErr);
    }
}
