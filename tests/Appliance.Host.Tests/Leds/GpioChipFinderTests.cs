using System.Device.Gpio;
using Appliance.Host.Leds;
using Appliance.Host.Leds.Backends;
using Xunit;

namespace Appliance.Host.Tests.Leds;

public sealed class GpioChipFinderTests
{
    private static readonly GpioChipInfo Pl061 = new(0, "gpiochip0", "9030000.pl061", 8);
    private static readonly GpioChipInfo Sim = new(1, "gpiochip1", "sim-io", 8);

    [Fact]
    public void Exact_label_wins_whatever_the_chip_number()
    {
        Assert.Equal(1, GpioChipFinder.Find([Pl061, Sim], "sim-io").Id);
        Assert.Equal(0, GpioChipFinder.Find([Sim, Pl061], "9030000.pl061").Id);
    }

    [Fact]
    public void A_unique_prefix_survives_a_node_rename()
    {
        var renamed = new GpioChipInfo(0, "gpiochip0", "9030000.gpio", 8);
        Assert.Equal("9030000.gpio", GpioChipFinder.Find([renamed, Sim], "9030000").Label);
    }

    [Fact]
    public void Missing_or_ambiguous_labels_fail_listing_the_chips_present()
    {
        var missing = Assert.Throws<LedHardwareException>(() => GpioChipFinder.Find([Pl061, Sim], "fe200000.gpio"));
        Assert.Contains("fe200000.gpio", missing.Message);
        Assert.Contains("gpiochip0 [9030000.pl061] (8 lines)", missing.Message);

        var twin = new GpioChipInfo(2, "gpiochip2", "sim-io2", 4);
        var ambiguous = Assert.Throws<LedHardwareException>(() => GpioChipFinder.Find([Sim, twin], "sim"));
        Assert.Contains("matches 2 chips", ambiguous.Message);

        Assert.Contains("no GPIO chips at all", Assert.Throws<LedHardwareException>(() => GpioChipFinder.Find([], "x")).Message);
    }
}
