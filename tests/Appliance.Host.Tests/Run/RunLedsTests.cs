using System.Text.Json;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Host.Tests.Run;

/// <summary>`meta-appliance run --leds memory`: the config's LEDs on the in-memory GPIO driver, read back through
/// the `leds` verb of the published binary: status steady on when running, link: following the port's carrier, a
/// refused reload showing the fault (fault LED on, status blinking) until a good reload clears it (status steady
/// again), a reload re-applying the LED section, night mode at run time, the fallback blink, the port's activity LED
/// lit by real traffic through the port and dark without it.</summary>
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

    /// <summary>The states <paramref name="led"/> was seen in, sampling `leds --json` back to back for
    /// <paramref name="span"/> (or until it was seen both on and off).</summary>
    private static HashSet<bool> Seen(RunBoard board, string led, TimeSpan span)
    {
        var seen = new HashSet<bool>();
        for (var end = DateTime.UtcNow + span; DateTime.UtcNow < end && seen.Count < 2;)
            seen.Add(On(Leds(board), led));
        return seen;
    }

    /// <summary>Longer than the status LED's fault blink period (1 s on, 1 s off): sampled this long, a blinking LED is
    /// seen off, a steady one never.</summary>
    private static readonly TimeSpan BlinkWindow = TimeSpan.FromSeconds(2.5);

    [PrivilegedFact]
    public void ServiceModeDrivesTheConfigsLedsAndReloadsThem()
    {
        using var board = new RunBoard();
        board.WriteConfig(peerPolicy: "pass", ledLines: Lines(board));
        using var app = ApplianceProcess.Start(board.ConfigFile, board.Socket, "--leds", "memory");
        app.WaitReady();

        Eventually(board, l => On(l, "status") && On(l, "link") && !On(l, "fault"), "running: status steady on, link on (carrier up), no fault");
        Assert.True(Seen(board, "status", BlinkWindow).SetEquals([true]), "running without a fault, the status LED is not steady on\n" + app.Output);

        var valid = File.ReadAllText(board.ConfigFile);
        File.WriteAllText(board.ConfigFile, valid.Replace("\"policy\": \"pass\"", "\"policy\": \"maybe\""));
        var refused = board.Cli("reload");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("not valid, the running config stays", refused.StdErr);
        Eventually(board, l => On(l, "fault"), "a refused reload lights the fault LED");
        // The fault pattern: 1 s on, 1 s off (steady on would never be seen off).
        Assert.True(Seen(board, "status", 2 * BlinkWindow).Count == 2, "the status LED does not blink while a fault is active\n" + app.Output);
        Assert.Contains("reload refused, the running config stays", app.StdErr);
        Assert.True(board.TenantPings(), "the running config still forwards\n" + app.Output);

        File.WriteAllText(board.ConfigFile, valid.Replace(Lines(board), Lines(board, """, { "name": "power", "chip": "mem", "line": 3, "trigger": "on" }""")));
        var reloaded = board.Cli("reload");
        Assert.True(reloaded.ExitCode == 0, reloaded.StdErr);
        Assert.Contains("LEDs re-applied", reloaded.StdOut);
        Eventually(board, l => On(l, "power") && !On(l, "fault") && On(l, "status"), "the reloaded LED section is driven and the fault cleared");
        Assert.True(Seen(board, "status", BlinkWindow).SetEquals([true]), "the status LED still blinks after the fault cleared\n" + app.Output);

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

    /// <summary>`activity:PORT` follows the frames the datapath moves through the port: dark while idle, lit (it
    /// toggles every 50 ms while the counter moves) while the tenant pings the outside through it, dark again after.</summary>
    [PrivilegedFact]
    public void ThePortActivityLedShowsFramesPassingThroughThePort()
    {
        using var board = new RunBoard();
        board.WriteConfig(peerPolicy: "pass", ledLines: $$"""{ "name": "act", "chip": "mem", "line": 0, "trigger": "activity:{{board.Port}}" }""");
        using var app = ApplianceProcess.Start(board.ConfigFile, board.Socket, "--leds", "memory");
        app.WaitReady();
        Eventually(board, l => !On(l, "act"), "idle: the port's activity LED is dark");

        var ping = Task.Run(() => Shell.RunWithTimeout(TimeSpan.FromSeconds(60), "ip", "netns", "exec", board.TenantNs,
            "ping", "-c", "100", "-i", "0.05", "-W", "1", RunBoard.OutsideAddress));
        bool lit = false;
        while (!ping.IsCompleted && !(lit = On(Leds(board), "act"))) { }
        var pinged = ping.Result;
        Assert.True(pinged.ExitCode == 0, $"the tenant's pings through the port failed: {pinged.StdOut}{pinged.StdErr}\n{app.Output}");
        Assert.True(lit, "the port's activity LED never lit while the tenant pinged through the port\n" + app.Output);
        Eventually(board, l => !On(l, "act"), "the port's activity LED goes dark once the pings stopped");
        Assert.Equal(0, app.Signal(15));
    }
}
