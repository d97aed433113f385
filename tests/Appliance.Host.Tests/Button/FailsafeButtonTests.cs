using Appliance.Datapath.Diagnostics;
using Appliance.Config;
using Appliance.Host.Button;
using Appliance.Host.Control;
using Appliance.Host.Leds;
using Appliance.Host.Leds.Backends;
using Xunit;
using Appliance.Host.State;
using Appliance.Host.Time;

namespace Appliance.Host.Tests.Button;

/// <summary>The failsafe button on the in-memory GPIO driver (Iot.Device.Bindings' GpioButton on a System.Device.Gpio
/// controller whose input line the test drives): short and long presses, and what a long press does to the files,
/// the status LED and the reload.</summary>
public sealed class FailsafeButtonTests : IDisposable
{
    private const string Chip = "9030000.pl061";
    private const int Line = 6;
    private readonly string _dir = Directory.CreateTempSubdirectory("mapp-button-").FullName;
    private readonly InMemoryGpioBackend _gpio = new InMemoryGpioBackend(MonotonicTimeSource.Instance).WithChip(Chip, 8);

    public void Dispose()
    {
        _gpio.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private string ConfigPath => Path.Combine(_dir, "config.json");

    private void Press(TimeSpan hold)
    {
        _gpio.SetInput(Chip, Line, high: false); // active low: pressed pulls the line down
        Thread.Sleep(hold);
        _gpio.SetInput(Chip, Line, high: true);
    }

    [Fact]
    public void AShortPressIsNotALongPress()
    {
        using var shortPress = new ManualResetEventSlim();
        int longPresses = 0;
        using var button = new FailsafeButton(_gpio.Controller(Chip), Line, activeLow: true, () => Interlocked.Increment(ref longPresses), shortPress.Set);
        Press(TimeSpan.FromMilliseconds(200));
        Assert.True(shortPress.Wait(TimeSpan.FromSeconds(5)), "no short press reported");
        Assert.Equal(0, longPresses);
    }

    [Fact]
    public void HoldingFiveSecondsIsOneLongPressWhileStillHeld()
    {
        using var longPress = new ManualResetEventSlim();
        int longPresses = 0, shortPresses = 0;
        using var button = new FailsafeButton(_gpio.Controller(Chip), Line, activeLow: true,
            () => { Interlocked.Increment(ref longPresses); longPress.Set(); }, () => Interlocked.Increment(ref shortPresses));
        _gpio.SetInput(Chip, Line, high: false);
        Assert.True(longPress.Wait(FailsafeButton.LongPress + TimeSpan.FromSeconds(10)), "no long press while held");
        _gpio.SetInput(Chip, Line, high: true);
        Thread.Sleep(200);
        Assert.Equal(1, longPresses);
        Assert.Equal(0, shortPresses); // the release after a long press is not also a short press
    }

    [Fact]
    public void LongPressRestoresTheLastGoodConfigReloadsAndShowsTheFallbackOnTheStatusLed()
    {
        File.WriteAllText(ConfigPath, "{ \"board\": \"broken\" ");
        File.WriteAllText(Path.Combine(_dir, "config.last-good.json"), "{ \"board\": \"qemu-virt\" }");
        File.WriteAllText(Path.Combine(_dir, FailsafeConfig.FactoryFileName), "{ \"board\": \"factory\" }");
        var state = new ApplianceState { Stage = BootStage.Running };
        using var reloaded = new ManualResetEventSlim();
        var log = new StringWriter();
        var syncedLog = TextWriter.Synchronized(log); // locks on itself: read the text under the same lock
        using var leds = new LedController(new LedLineFactory(() => _gpio), state, MonotonicTimeSource.Instance, new Logger(log));
        using var button = FailsafeButtonSetup.Open(new ButtonConfig { Chip = Chip, Line = Line }, leds, state, ConfigPath,
            () => { reloaded.Set(); return ControlResponse.Success("reloaded"); }, new Logger(syncedLog), "test");
        Assert.NotNull(button);

        _gpio.SetInput(Chip, Line, high: false);
        Assert.True(reloaded.Wait(FailsafeButton.LongPress + TimeSpan.FromSeconds(10)), "no reload after a long press\n" + log);
        _gpio.SetInput(Chip, Line, high: true);
        Assert.Equal("{ \"board\": \"qemu-virt\" }", File.ReadAllText(ConfigPath));
        Assert.Equal("{ \"board\": \"broken\" ", File.ReadAllText(ConfigPath + FailsafeConfig.BackupSuffix));
        Assert.Equal(ConfigHealth.Fallback, state.ConfigHealth);
        Assert.Equal(Appliance.Host.Leds.Triggers.StatusMode.Degraded, Appliance.Host.Leds.Triggers.StatusTrigger.ModeOf(state));
        // The line is written after the reload callback returns (it reports the reload's result): wait for it.
        string expected = "failsafe button: " + ConfigPath + " replaced by " + Path.Combine(_dir, "config.last-good.json");
        string Text() { lock (syncedLog) return log.ToString(); }
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (!Text().Contains(expected, StringComparison.Ordinal) && DateTime.UtcNow < deadline) Thread.Sleep(20);
        Assert.Contains(expected, Text());
    }

    [Fact]
    public void WithoutALastGoodConfigTheFactoryConfigIsRestoredAndWithNeitherNothingChanges()
    {
        File.WriteAllText(ConfigPath, "mine");
        Assert.Null(FailsafeConfig.Restore(ConfigPath));
        Assert.Equal("mine", File.ReadAllText(ConfigPath));
        Assert.False(File.Exists(ConfigPath + FailsafeConfig.BackupSuffix));

        File.WriteAllText(Path.Combine(_dir, FailsafeConfig.FactoryFileName), "factory");
        Assert.Equal(Path.Combine(_dir, FailsafeConfig.FactoryFileName), FailsafeConfig.Restore(ConfigPath));
        Assert.Equal("factory", File.ReadAllText(ConfigPath));
        Assert.Equal("mine", File.ReadAllText(ConfigPath + FailsafeConfig.BackupSuffix));
    }

    /// <summary>A short press says what the status LED shows, for every mode it can show: a change waiting for
    /// `confirm` (500/500 ms) was read out as "steady on: forwarding".</summary>
    [Fact]
    public void AShortPressNamesEveryStatusLedMode()
    {
        var state = new ApplianceState();
        Assert.StartsWith("blinking 100/100 ms: starting", FailsafeButtonSetup.StatusLedMeaning(state));
        state.Stage = BootStage.Running;
        Assert.StartsWith("steady on: forwarding", FailsafeButtonSetup.StatusLedMeaning(state));
        state.ConfirmDeadline = new DateTime(2026, 12, 7, 12, 34, 56, DateTimeKind.Utc);
        Assert.Equal("blinking 500/500 ms: a change waits for `meta-appliance confirm` (rolled back at 12:34:56 UTC)", FailsafeButtonSetup.StatusLedMeaning(state));
        state.ConfigHealth = ConfigHealth.Fallback;
        Assert.StartsWith("blinking 50/50 ms: running a fallback config", FailsafeButtonSetup.StatusLedMeaning(state));
        state.RaiseFault("datapath", "worker restarted");
        Assert.Equal("blinking 1 s on/off: a fault (datapath: worker restarted)", FailsafeButtonSetup.StatusLedMeaning(state));
    }

    [Fact]
    public void AButtonOnAMissingChipIsLoggedNotFatal()
    {
        var log = new StringWriter();
        var state = new ApplianceState();
        using var leds = new LedController(new LedLineFactory(() => _gpio), state, MonotonicTimeSource.Instance, new Logger(log));
        var button = FailsafeButtonSetup.Open(new ButtonConfig { Chip = "no-such-chip", Line = 0 }, leds, state, ConfigPath,
            () => ControlResponse.Success(""), new Logger(log), "test");
        Assert.Null(button);
        Assert.Contains("the failsafe button no-such-chip:0 cannot be watched", log.ToString());
    }
}
