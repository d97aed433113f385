using System.Text.Json;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Host.Tests.Board;

/// <summary>Every board profile (board/NAME/board.env) is complete and agrees with its example config: the same
/// ports, and every LED of the config wired where the profile says (chip label, line, polarity).</summary>
public sealed class BoardProfileTests
{
    public static TheoryData<string> Boards()
    {
        var data = new TheoryData<string>();
        foreach (var dir in Directory.GetDirectories(Path.Combine(RepoPaths.Root, "board")).Order())
            if (File.Exists(Path.Combine(dir, "board.env"))) data.Add(Path.GetFileName(dir));
        return data;
    }

    private static readonly string[] Keys =
        ["BOARD_NAME", "BOARD_RID", "BOARD_KERNEL_PACKAGE", "BOARD_CONSOLE", "BOARD_BOOT", "BOARD_MODULES", "BOARD_BOOT_LABEL", "BOARD_PORTS", "BOARD_LEDS", "BOARD_CONFIG", "BOARD_DTB", "BOARD_WORKERS"];

    /// <summary>The profile as the image builder sees it: sourced by bash, values printed NUL-separated.</summary>
    internal static Dictionary<string, string> Source(string board, params string[] keys)
    {
        var env = Path.Combine(RepoPaths.Root, "board", board, "board.env");
        var script = $"set -eu; . '{env}'; for k in {string.Join(' ', keys.Length > 0 ? keys : Keys)}; do printf '%s=%s\\0' \"$k\" \"${{!k}}\"; done";
        var text = Shell.Check("bash", "-c", script);
        return text.Split('\0', StringSplitOptions.RemoveEmptyEntries).ToDictionary(kv => kv[..kv.IndexOf('=')], kv => kv[(kv.IndexOf('=') + 1)..]);
    }

    [Theory]
    [MemberData(nameof(Boards))]
    public void ProfileIsCompleteAndMatchesItsExampleConfig(string board)
    {
        var p = Source(board);
        Assert.Equal(board, p["BOARD_NAME"]);
        Assert.Equal("linux-arm64", p["BOARD_RID"]);
        Assert.Matches(@"^linux-image-[0-9.]+-arm64$", p["BOARD_KERNEL_PACKAGE"]);
        Assert.Equal("extlinux", p["BOARD_BOOT"]);
        Assert.True(int.TryParse(p["BOARD_WORKERS"], out var workers) && workers is >= 1 and <= 64, $"{board}: BOARD_WORKERS '{p["BOARD_WORKERS"]}' is not a worker count");
        // The profile states what the appliance picks there: the board's choice, else (qemu-virt) every core QEMU gives it.
        var choice = Appliance.Config.WorkerSettings.BoardChoice(board) ?? (board == "qemu-virt" ? int.Parse(Source(board, "BOARD_QEMU_SMP")["BOARD_QEMU_SMP"]) : (int?)null);
        Assert.True(choice == workers, $"{board}: BOARD_WORKERS={workers} but the appliance runs {choice?.ToString() ?? "every online core"} there (WorkerSettings.BoardChoice)");
        foreach (var m in new[] { "fat", "vfat", "nls_cp437", "nls_ascii", "veth" }) Assert.Contains(m, p["BOARD_MODULES"].Split(' '));

        var ports = p["BOARD_PORTS"].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(ports);
        var leds = p["BOARD_LEDS"].Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l =>
            {
                var parts = l[(l.IndexOf('=') + 1)..].Split(':', 4);
                Assert.True(parts.Length == 4, $"LED '{l}' is not NAME=CHIP:LINE:POLARITY:TRIGGER");
                Assert.Contains(parts[2], new[] { "active-high", "active-low" });
                return (Chip: parts[0], Line: int.Parse(parts[1]), ActiveLow: parts[2] == "active-low");
            }).ToList();
        Assert.NotEmpty(leds);

        var config = Path.GetFullPath(Path.Combine(RepoPaths.Root, "board", board, p["BOARD_CONFIG"]));
        Assert.True(File.Exists(config), $"{board}: example config {config} is missing");
        using var doc = JsonDocument.Parse(File.ReadAllText(config), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        Assert.Equal(board, doc.RootElement.GetProperty("board").GetString());
        foreach (var port in doc.RootElement.GetProperty("ports").EnumerateArray())
            Assert.Contains(port.GetProperty("name").GetString(), ports);
        foreach (var led in doc.RootElement.GetProperty("leds").GetProperty("lines").EnumerateArray())
        {
            var wired = (led.GetProperty("chip").GetString()!, led.GetProperty("line").GetInt32(),
                led.TryGetProperty("activeLow", out var low) && low.GetBoolean());
            Assert.True(leds.Contains(wired), $"{board}: LED {led} is not wired that way in board.env ({string.Join(", ", leds)})");
        }
        if (p["BOARD_DTB"].Length > 0)
            Assert.Matches(@"^[a-z0-9]+/[a-z0-9-]+\.dtb$", p["BOARD_DTB"]);
    }
}
