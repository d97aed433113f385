using System.Text.Json;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Host.Tests.Run;

/// <summary>`meta-appliance run --leds memory`: the config's LEDs on the in-memory GPIO driver, read back through
/// the `leds` verb of the published binary: status on when running, link: following the port's carrier, a refused
/// reload showing the fault, a reload re-applying the LED section, night mode at run time, the fallback blink.</summary>
[Collection(KernelCollection.Name)]
public sealed class RunLedsTests
{
    private static string Lines(RunBoard board, string extra = "") => $$"""
        { "name": "status", "chip": "mem", "line": 0, "trigger": "status" },
        { "name": "link", "chip": "mem", "line": 1, "trigger": "link:{{board.Port}}" },
        { "name": "fault", "chip": "mem", "line": 2, "trigger": "fault" }{{extra}}
        """;

    private static JsonElement Leds(RunBoard board)
    {
        var r = board.Cli("leds", "--json");
        Assert.True(r.ExitCode == 0, $"leds --json: exit {r.ExitCode}: {r.StdErr}");
        return JsonDocument.Parse(r.StdOut).RootElement;
    }

    private static bool On(JsonElement leds, string name) =>
        leds.GetProperty("leds").EnumerateArray().Single(l => l.GetProperty("name").GetString() == name).GetProperty("on").GetBoolean();

    /// <summary>Polls until <paramref name="condition"/> holds (generous: a state change wakes the LED thread at once).</summary>
    private static void Eventually(RunBoard board, Func<JsonElement, bool> condition, string what)
    {
        JsonElement last = default;
        for (var deadline = DateTime.UtcNow.AddSeconds(15); DateTime.UtcNow < deadline; Thread.Sleep(100))
            if (condition(last = Leds(board))) return;
        Assert.Fail($"{what}; last `leds --json`: {last}");
    }

    [PrivilegedFact]
    public void ServiceModeDrivesTheConfigsLedsAndReloadsThem()
    {
        using var board = new RunBoard();
        board.WriteConfig(peerPolicy: "pass", ledLines: Lines(board));
        using var app = ApplianceProcess.Start(board.ConfigFile, board.Socket, "--leds", "memory");
        app.WaitReady();

        Eventually(board, l => On(l, "status") && On(l, "link") && !On(l, "fault"), "running: status steady on, link on (carrier up), no fault");

        var valid = File.ReadAllText(board.ConfigFile);
        File.WriteAllText(board.ConfigFile, valid.Replace("\"policy\": \"pass\"", "\"policy\": \"maybe\""));
        var refused = board.Cli("reload");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("not valid, the running config stays", refused.StdErr);
        Eventually(board, l => On(l, "fault"), "a refused reload lights the fault LED");
        Assert.Contains("reload refused, the running config stays", app.StdErr);
        Assert.True(board.TenantPings(), "the running config still forwards\n" + app.Output);

        File.WriteAllText(board.ConfigFile, valid.Replace(Lines(board), Lines(board, """, { "name": "power", "chip": "mem", "line": 3, "trigger": "on" }""")));
        var reloaded = board.Cli("reload");
        Assert.True(reloaded.ExitCode == 0, reloaded.StdErr);
        Assert.Contains("LEDs re-applied", reloaded.StdOut);
        Eventually(board, l => On(l, "power") && !On(l, "fault") && On(l, "status"), "the reloaded LED section is driven and the fault cleared");

        Assert.Equal(0, board.Cli("leds", "off").ExitCode);
        Eventually(board, l => l.GetProperty("nightMode").GetBoolean() && !On(l, "power") && !On(l, "status"), "night mode darkens every LED");
        Assert.Equal(0, board.Cli("leds", "on").ExitCode);
        Eventually(board, l => !l.GetProperty("nightMode").GetBoolean() && On(l, "power"), "night mode off shows the triggers again");
        Assert.Equal(0, app.Signal(15));
    }

    [PrivilegedFact]
    public void AFallbackStartBlinksTheStatusLed()
    {
        using var board = new RunBoard();
        board.WriteConfig(peerPolicy: "pass", ledLines: Lines(board));
        File.Copy(board.ConfigFile, Path.Combine(board.Folder, "config.last-good.json"));
        File.WriteAllText(board.ConfigFile, File.ReadAllText(board.ConfigFile).Replace("\"policy\": \"pass\"", "\"policy\": \"maybe\""));
        using var app = ApplianceProcess.Start(board.ConfigFile, board.Socket, "--leds", "memory");
        app.WaitReady();
        Assert.Contains("running the last known good", app.StdErr);

        // 50/50 ms blink: sampled for a second the status LED is seen both on and off (steady on would not be).
        var seen = new HashSet<bool>();
        for (var end = DateTime.UtcNow.AddSeconds(5); DateTime.UtcNow < end && seen.Count < 2; Thread.Sleep(7))
            seen.Add(On(Leds(board), "status"));
        Assert.True(seen.Count == 2, "the status LED does not blink on a fallback config\n" + app.Output);
        Assert.Equal(0, app.Signal(15));
    }
}
