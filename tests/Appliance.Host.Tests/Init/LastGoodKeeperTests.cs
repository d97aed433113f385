using Appliance.Datapath.Diagnostics;
using Appliance.Host.Init;
using Xunit;
using Appliance.Host.State;

namespace Appliance.Host.Tests.Init;

/// <summary>Last known good on a virtual clock: saved only after the config ran healthy for the whole interval
/// without a break, once, atomically, beside the original.</summary>
public sealed class LastGoodKeeperTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mapp-lastgood-").FullName;
    private readonly ManualClock _time = new();
    private string ConfigPath => Path.Combine(_dir, "config.json");
    private string LastGood => Path.Combine(_dir, ConfigSelection.LastGoodFileName);

    private LastGoodKeeper Keeper(StringWriter log) => new(ConfigPath, "{ \"board\": \"x\" }"u8.ToArray(), TimeSpan.FromSeconds(30), _time, new Logger(log));

    [Fact]
    public void SavedOnlyAfterTheWholeHealthyInterval()
    {
        var log = new StringWriter();
        var keeper = Keeper(log);
        keeper.Observe(true);
        _time.Set(29_000);
        keeper.Observe(true);
        Assert.False(File.Exists(LastGood), "saved before 30 s of health");
        _time.Set(30_000);
        keeper.Observe(true);
        Assert.True(keeper.Saved);
        Assert.Equal("{ \"board\": \"x\" }", File.ReadAllText(LastGood));
        Assert.False(File.Exists(LastGood + ".tmp"), "the temporary file is renamed into place");
        Assert.Contains("saved as the last known good config", log.ToString());
    }

    [Fact]
    public void AnUnhealthyMomentRestartsTheInterval()
    {
        var keeper = Keeper(new StringWriter());
        keeper.Observe(true);
        _time.Set(20_000);
        keeper.Observe(false);
        _time.Set(25_000);
        keeper.Observe(true);
        _time.Set(50_000);
        keeper.Observe(true);
        Assert.False(File.Exists(LastGood), "20 s + 25 s with a break in between is not 30 s of health");
        _time.Set(55_000);
        keeper.Observe(true);
        Assert.True(File.Exists(LastGood));
    }

    [Fact]
    public void DueInSaysHowLongTheHealthCheckMaySleep()
    {
        var keeper = Keeper(new StringWriter());
        Assert.Null(keeper.DueIn); // never observed healthy: nothing due
        _time.Set(1_000);
        keeper.Observe(true);
        Assert.Equal(TimeSpan.FromSeconds(30), keeper.DueIn);
        _time.Set(21_000);
        Assert.Equal(TimeSpan.FromSeconds(10), keeper.DueIn);
        keeper.Observe(false);
        Assert.Null(keeper.DueIn); // a break: nothing due until healthy again
        keeper.Observe(true);
        Assert.Equal(TimeSpan.FromSeconds(30), keeper.DueIn);
        _time.Set(60_000);
        Assert.Equal(TimeSpan.Zero, keeper.DueIn); // overdue
        Assert.False(File.Exists(LastGood), "DueIn only tells; Observe saves");
        keeper.Observe(true);
        Assert.True(File.Exists(LastGood));
        Assert.Null(keeper.DueIn); // saved: never due again
    }

    [Fact]
    public void TheSavedCopyIsWhatTheNextInvalidStartFallsBackTo()
    {
        var valid = """{ "board": "qemu-virt", "ports": [ { "name": "eth3" } ] }""";
        File.WriteAllText(ConfigPath, valid);
        var keeper = new LastGoodKeeper(ConfigPath, System.Text.Encoding.UTF8.GetBytes(valid), TimeSpan.Zero, _time, new Logger(TextWriter.Null));
        keeper.Observe(true);
        File.WriteAllText(ConfigPath, """{ "board": "qemu-virt", "ports": [ { "name": "eth3", "bogus": 1 } ] }""");

        var log = new StringWriter();
        var (config, health, _, _) = ConfigSelection.Load(ConfigPath, new Logger(log), logName: "run");
        Assert.Equal(Appliance.Host.State.ConfigHealth.Fallback, health);
        Assert.Equal("eth3", Assert.Single(config!.Ports).Name);
        Assert.Contains("warn  run: ", log.ToString());
        Assert.Contains("running the last known good", log.ToString());
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
