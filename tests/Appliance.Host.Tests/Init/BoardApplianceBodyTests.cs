using Appliance.Datapath.Diagnostics;
using Appliance.Host.Init;
using Appliance.Host.Leds;
using Appliance.Host.Leds.Backends;
using Appliance.Host.Tests.Leds;
using Xunit;
using Appliance.Host.State;

namespace Appliance.Host.Tests.Init;

/// <summary>The config choice at boot and the invalid-config path of the init body (no datapath is started
/// in these tests).</summary>
public sealed class BoardApplianceBodyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mapp-init-").FullName;
    private const string Valid = """{ "board": "qemu-virt", "ports": [ { "name": "eth0" } ] }""";
    private const string Broken = """{ "board": "qemu-virt", "ports": [ { "name": "eth0", "bogus": 1 } ] }""";

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void A_valid_config_is_used_as_is()
    {
        var (config, health, _, bytes) = ConfigSelection.Load(Write("config.json", Valid), new Logger(TextWriter.Null));
        Assert.Equal(ConfigHealth.Ok, health);
        Assert.Equal("eth0", Assert.Single(config!.Ports).Name);
        Assert.Equal(System.Text.Encoding.UTF8.GetBytes(Valid), bytes); // the bytes it was loaded from
    }

    [Fact]
    public void An_invalid_config_falls_back_to_last_good_and_logs_the_error_location()
    {
        var log = new StringWriter();
        Write(ConfigSelection.LastGoodFileName, Valid.Replace("eth0", "eth7"));
        var (config, health, _, bytes) = ConfigSelection.Load(Write("config.json", Broken), new Logger(log));
        Assert.Equal(ConfigHealth.Fallback, health);
        Assert.Equal("eth7", Assert.Single(config!.Ports).Name);
        Assert.Equal(System.Text.Encoding.UTF8.GetBytes(Valid.Replace("eth0", "eth7")), bytes); // the copy's bytes, not the broken file's
        Assert.Contains("config.json:1:", log.ToString());
        Assert.Contains("bogus", log.ToString());
        Assert.Contains("last known good", log.ToString());
    }

    [Fact]
    public void Reading_a_folder_a_missing_file_or_an_oversized_one_says_why_and_keeps_no_bytes()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_dir, "folder.json")).FullName;
        var huge = Path.Combine(_dir, "huge.json");
        File.WriteAllBytes(huge, new byte[Appliance.Config.ConfigLimits.MaxFileBytes + 1]);
        foreach (var (path, why) in new[] { (folder, "is a directory"), (Path.Combine(_dir, "missing.json"), "file not found"), (huge, "a config may be at most") })
        {
            var loaded = Appliance.Config.ConfigLoader.LoadFile(path);
            var bytes = loaded.Bytes;
            Assert.False(loaded.IsValid, path);
            Assert.Null(bytes); // nothing a rollback or the last good copy could keep
            Assert.Contains(why, string.Join("\n", loaded.Errors.Select(e => e.Message)));
        }
    }

    [Fact]
    public void Invalid_without_last_good_keeps_running_with_board_leds_showing_it()
    {
        var log = new StringWriter();
        var config = Write("config.json", Broken);
        var boardEnv = Write("board.env", "BOARD_LEDS=\"status=test-chip:0:active-high:status fault=test-chip:1:active-low:fault\"\n");
        var time = new FakeTimeSource();
        var state = new ApplianceState();
        var gpio = new InMemoryGpioBackend(time).WithChip("test-chip", 4);
        using var leds = new LedController(new LedLineFactory(() => gpio), state, time, new Logger(TextWriter.Null));
        using var stop = new CancellationTokenSource();
        var started = new ManualResetEventSlim();
        var run = new SupervisedRun(stop.Token, state, leds, started.Set);
        var body = new ApplianceHost(new ApplianceHostOptions { ConfigPath = config, BoardEnvPath = boardEnv, StayUpWithoutConfig = true }, new Logger(TextWriter.Synchronized(log)));

        var thread = new Thread(() => body.Run(run));
        thread.Start();
        Assert.True(started.Wait(TimeSpan.FromSeconds(30)), "the body did not report started");
        Assert.Equal(ConfigHealth.Invalid, state.ConfigHealth);
        Assert.Equal(Appliance.Host.Leds.Triggers.StatusMode.Degraded, Appliance.Host.Leds.Triggers.StatusTrigger.ModeOf(state));
        Assert.Equal(["status", "fault"], leds.Leds.Select(l => l.Name));
        Assert.All(leds.Leds, l => Assert.Null(l.Error));
        Assert.Contains("the datapath stays down", log.ToString());
        Assert.True(thread.IsAlive, "the body must keep running until stopped");

        stop.Cancel();
        Assert.True(thread.Join(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public void As_a_service_an_invalid_config_without_last_good_starts_nothing_and_says_why()
    {
        var log = new StringWriter();
        var host = new ApplianceHost(new ApplianceHostOptions { ConfigPath = Write("config.json", Broken) }, new Logger(log));
        var state = new ApplianceState();
        var run = new SupervisedRun(CancellationToken.None, state, null, () => Assert.Fail("reported started"));
        var e = Assert.Throws<ConfigUnusableException>(() => host.Run(run));
        Assert.Contains("not valid", e.Message);
        Assert.Contains(ConfigSelection.LastGoodFileName, e.Message);
        Assert.Equal(ConfigHealth.Invalid, state.ConfigHealth);
        Assert.Contains("error run: ", log.ToString());
        Assert.Contains("bogus", log.ToString());
        // run stops: its log must not promise what only init does (stay up, blink until the file is fixed).
        Assert.DoesNotContain("stays down", log.ToString());
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
