using Appliance.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Appliance.Host.Tests.Board;

/// <summary>A user breaks config.json on the FAT partition from a PC (mcopy into a copy of the image): the board
/// still boots, the console says clearly what is wrong and where, and nothing panics.</summary>
[Collection(KernelCollection.Name)]
public sealed class BoardInvalidConfigTests(ITestOutputHelper output)
{
    [Fact]
    public void InvalidConfigOnTheFatPartitionIsReportedOnTheConsoleNotAPanic()
    {
        var image = BuiltBoardImage.Instance;
        var dir = Directory.CreateTempSubdirectory("mapp-badconfig-").FullName;
        try
        {
            var copy = image.CopyTo(dir);
            var fat = new FatPartition(copy);
            var good = fat.ReadText("/config.json");
            Assert.Contains("\"uplink\": \"eth0\"", good);
            var bad = good.Replace("\"uplink\": \"eth0\"", "\"uplink\": \"eth9\"");
            var badLine = bad[..bad.IndexOf("\"eth9\"", StringComparison.Ordinal)].Count(c => c == '\n') + 1;
            fat.WriteText("/config.json", bad);
            Assert.Equal(bad, fat.ReadText("/config.json"));

            using var board = new QemuBoard(copy, image.UBootEnvironment, writable: true);
            var ready = board.WaitUntilReady(TimeSpan.FromSeconds(120));
            var text = board.Console.Text;
            output.WriteLine($"READY after {ready.TotalSeconds:0.00} s with the invalid config");

            Assert.Contains("MAPP: config /boot/config.json: INVALID (validate exit code 1", text);
            Assert.Matches($@"config\.json:{badLine}:\d+: .*eth9", text);   // file, line, column and the bad value
            Assert.DoesNotContain("Kernel panic", text);
            Assert.DoesNotContain("Unhandled exception", text);
            // The board stays usable: the console answers.
            var (rc, echo) = board.Console.Run("echo board-alive", TimeSpan.FromSeconds(30));
            Assert.Equal(0, rc);
            Assert.Contains("board-alive", echo);
            Assert.True(board.PowerOff(TimeSpan.FromSeconds(30)), "the board did not power off cleanly");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
