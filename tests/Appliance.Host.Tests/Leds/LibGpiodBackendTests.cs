using Appliance.Host.Leds;
using Appliance.Host.Leds.Backends;
using Xunit;

namespace Appliance.Host.Tests.Leds;

/// <summary>The System.Device.Gpio backend against the real libgpiod installed on this machine (build.sh
/// installs libgpiod2). This PC has no gpiochip (CONFIG_GPIOLIB is off and gpio-sim cannot be loaded), so
/// what can be proven here is the driver choice and the chip lookup through libgpiod; driving a real line
/// is proven on the emulated board (PL061, QEMU trace) by the board tests.</summary>
public sealed class LibGpiodBackendTests
{
    [Fact]
    public void Picks_the_installed_libgpiod_and_reports_a_missing_chip_through_it()
    {
        if (!File.Exists("/lib/x86_64-linux-gnu/libgpiod.so.2") && !File.Exists("/usr/lib/aarch64-linux-gnu/libgpiod.so.2"))
            Assert.Fail("libgpiod2 is not installed; run ./build.sh deps");
        using var backend = new LibGpiodBackend(LibgpiodApi.V1);
        Assert.Equal("libgpiod v1 (libgpiod.so.2)", backend.Name);

        var e = Assert.Throws<LedHardwareException>(() => backend.OpenOutput(new GpioLineAddress("9030000.pl061", 0), false));
        Assert.Contains("9030000.pl061", e.Message);
        var chips = Directory.Exists("/dev") ? Directory.GetFiles("/dev", "gpiochip*") : [];
        if (chips.Length == 0) Assert.Contains("no GPIO chips at all", e.Message);
    }
}
