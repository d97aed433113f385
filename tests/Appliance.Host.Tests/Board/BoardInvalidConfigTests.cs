using Appliance.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Appliance.Host.Tests.Board;

/// <summary>A user breaks config.json on the FAT partition from a PC (mcopy into a copy of the image): the board
/// still boots with meta-appliance as PID 1, the console says what is wrong and where (file:line:column, JSON
/// path), the status LED blinks the fallback pattern, and nothing panics.</summary>
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

            // meta-appliance itself is PID 1 on this boot (the product path): the switch on the kernel command line.
            var extlinux = fat.ReadText("/extlinux/extlinux.conf");
            fat.WriteText("/extlinux/extlinux.conf", System.Text.RegularExpressions.Regex.Replace(extlinux, @"(?m)^(\s*append .*?)\s*$", "$1 appliance.pid1=meta-appliance"));

            using var board = new QemuBoard(copy, image.UBootEnvironment, writable: true);
            try
            {
                board.Console.WaitFor("MAPP: handing PID 1 to meta-appliance init", TimeSpan.FromSeconds(120));
                var error = board.Console.WaitFor($@"config\.json:{badLine}:\d+: \$\.pairs\[0\]\.uplink: .*eth9.*", TimeSpan.FromSeconds(120));
                output.WriteLine($"console, {board.SinceStart.TotalSeconds:0.0} s after start: {error.Value.Trim()}");
                Assert.Matches(@"pid=1\b", board.Console.Text);

                // The status LED (PL061 line 0) shows the invalid config: it keeps blinking.
                var trace = board.Trace;
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
                while (trace.Transitions(0) < 8 && DateTime.UtcNow < deadline) Thread.Sleep(250);
                var first = trace.Transitions(0);
                Assert.True(first >= 8, $"the status LED does not blink with an invalid config: levels [{string.Join(",", trace.Levels(0))}]\n{board.Console.Text}");
                Thread.Sleep(3000);
                var perSecond = (trace.Transitions(0) - first) / 3.0;
                Assert.True(perSecond > 0, "the status LED stopped blinking");
                output.WriteLine($"status LED with the invalid config: ~{perSecond:0.#} transitions/s (50/50 ms would be 20/s; TCG timing is approximate)");

                var text = board.Console.Text;
                Assert.DoesNotContain("Kernel panic", text);
                Assert.DoesNotContain("Unhandled exception", text);
                Assert.False(board.HasExited, "the board died with an invalid config");
            }
            finally
            {
                board.Quit();
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
