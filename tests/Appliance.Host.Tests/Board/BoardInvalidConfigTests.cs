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
            // The appliance shows the fallback on the status LED (PL061 line 0): it keeps blinking.
            if (GuestPath.ApplianceHasVerb(board.Console, "run"))
            {
                var trace = board.Trace;
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
                while (trace.Transitions(0) < 8 && DateTime.UtcNow < deadline) Thread.Sleep(250);
                var first = trace.Transitions(0);
                Assert.True(first >= 8, $"the status LED does not blink with an invalid config: levels [{string.Join(",", trace.Levels(0))}]\n{board.Console.Text}");
                Thread.Sleep(3000);
                var perSecond = (trace.Transitions(0) - first) / 3.0;
                Assert.True(perSecond > 0, "the status LED stopped blinking");
                output.WriteLine($"status LED with the invalid config: ~{perSecond:0.#} transitions/s (50/50 ms would be 20/s; TCG timing is approximate)");
            }
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
