using Appliance.Host.Leds;
using Appliance.Host.Leds.Backends;
using Xunit;

namespace Appliance.Host.Tests.Leds;

/// <summary>`run --leds gpio|memory|none`: the names, and the memory driver opening any chip the config names.</summary>
public sealed class LedDriverChoiceTests
{
    [Theory]
    [InlineData("gpio", LedDriverChoice.Gpio)]
    [InlineData("memory", LedDriverChoice.Memory)]
    [InlineData("none", LedDriverChoice.None)]
    public void KnownNamesParse(string text, LedDriverChoice expected) => Assert.Equal(expected, LedDriverChoices.Parse(text));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("GPIO")]
    [InlineData("libgpiod")]
    public void OtherNamesAreRefused(string? text) => Assert.Null(LedDriverChoices.Parse(text));

    [Fact]
    public void NoneHasNoLines() => Assert.Null(LedDriverChoices.Lines(LedDriverChoice.None, new FakeTimeSource()));

    [Fact]
    public void TheMemoryDriverOpensAnyChipButStillChecksOffsetsAndBusyLines()
    {
        var gpio = new InMemoryGpioBackend(new FakeTimeSource()).WithAnyChip(lines: 4);
        using var a = gpio.OpenOutput(new GpioLineAddress("whatever-chip", 3, ActiveLow: false), initialHigh: true);
        Assert.True(gpio.Level("whatever-chip", 3));
        Assert.Throws<LedHardwareException>(() => gpio.OpenOutput(new GpioLineAddress("whatever-chip", 4, ActiveLow: false), false));
        Assert.Throws<LedHardwareException>(() => gpio.OpenOutput(new GpioLineAddress("whatever-chip", 3, ActiveLow: false), false));
        Assert.Throws<LedHardwareException>(() => new InMemoryGpioBackend(new FakeTimeSource()).OpenOutput(new GpioLineAddress("whatever-chip", 0, ActiveLow: false), false));
    }
}
