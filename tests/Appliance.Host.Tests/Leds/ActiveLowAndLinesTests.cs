using Appliance.Host.Leds;
using Appliance.Host.Leds.Backends;
using Xunit;

namespace Appliance.Host.Tests.Leds;

public sealed class ActiveLowAndLinesTests
{
    [Fact]
    public void Active_low_led_is_opened_high_and_driven_low_to_light()
    {
        using var rig = new LedRig().Start(LedRig.Led("st", 2, "status", activeLow: true));
        rig.RunUntil(250);
        Assert.True(rig.OpenedHigh(2));
        Assert.Equal([(0.0, false), (100.0, true), (200.0, false)], rig.Edges(2));
        Assert.Equal("gpio test-chip:2 active-low", rig.Controller.Leds[0].Line);
    }

    [Fact]
    public void Missing_chip_or_line_is_reported_by_name_and_the_other_leds_still_run()
    {
        using var rig = new LedRig();
        var errors = rig.Controller.Configure(new LedSetup(
        [
            new LedSpec("ghost", new GpioLineAddress("no-such-chip", 0), "on"),
            new LedSpec("far", new GpioLineAddress(LedRig.Chip, 8), "on"),
            LedRig.Led("ok", 1, "on"),
        ]));
        rig.Controller.Start();
        rig.RunUntil(100);

        Assert.Equal(2, errors.Count);
        Assert.Contains("'ghost'", errors[0]);
        Assert.Contains("no-such-chip", errors[0]);
        Assert.Contains("'far'", errors[1]);
        Assert.Contains("0..7", errors[1]);
        Assert.Equal([(0.0, true)], rig.Edges(1));
        Assert.NotNull(rig.Controller.Leds.Single(l => l.Name == "ghost").Error);
        Assert.Null(rig.Controller.Leds.Single(l => l.Name == "ok").Error);
    }

    [Fact]
    public void Stop_turns_leds_off_and_releases_the_lines()
    {
        var rig = new LedRig().Start(LedRig.Led("on", 0, "on"), LedRig.Led("on-low", 1, "on", activeLow: true));
        rig.RunUntil(100);
        rig.Controller.Stop();
        Assert.False(rig.Gpio.Level(LedRig.Chip, 0));
        Assert.True(rig.Gpio.Level(LedRig.Chip, 1));
        // Released: the same lines can be requested again.
        using var again = rig.Gpio.OpenOutput(new GpioLineAddress(LedRig.Chip, 0), false);
    }

    [Fact]
    public void A_requested_line_cannot_be_requested_twice()
    {
        var gpio = new InMemoryGpioBackend(new FakeTimeSource()).WithChip("c", 2);
        using var first = gpio.OpenOutput(new GpioLineAddress("c", 1), false);
        var e = Assert.Throws<LedHardwareException>(() => gpio.OpenOutput(new GpioLineAddress("c", 1), false));
        Assert.Contains("busy", e.Message);
    }
}
