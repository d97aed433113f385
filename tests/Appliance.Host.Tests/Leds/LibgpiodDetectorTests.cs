using System.Runtime.InteropServices;
using Appliance.Host.Leds;
using Appliance.Host.Leds.Backends;
using Xunit;

namespace Appliance.Host.Tests.Leds;

public sealed class LibgpiodDetectorTests
{
    private static bool Loadable(string soname)
    {
        if (!NativeLibrary.TryLoad(soname, out var h)) return false;
        NativeLibrary.Free(h);
        return true;
    }

    [Fact]
    public void Detection_matches_the_libraries_installed_here()
    {
        var v2 = Loadable("libgpiod.so.3");
        var v1 = Loadable("libgpiod.so.2") || Loadable("libgpiod.so.1");
        if (!v1 && !v2)
        {
            var e = Assert.Throws<LedHardwareException>(() => LibgpiodDetector.Detect());
            Assert.Contains("libgpiod.so.3", e.Message);
            Assert.Contains("libgpiod.so.2", e.Message);
            Assert.Contains("/sys/class/leds", e.Message);
            return;
        }
        var (api, soname) = LibgpiodDetector.Detect();
        Assert.Equal(v2 ? LibgpiodApi.V2 : LibgpiodApi.V1, api);
        Assert.True(Loadable(soname));
    }

    [Fact]
    public void Forcing_an_api_that_is_missing_names_only_its_libraries()
    {
        if (Loadable("libgpiod.so.3")) return; // nothing to prove where v2 is installed
        var e = Assert.Throws<LedHardwareException>(() => LibgpiodDetector.Detect(LibgpiodApi.V2));
        Assert.Contains("libgpiod.so.3", e.Message);
        Assert.DoesNotContain("libgpiod.so.2", e.Message);
    }
}
