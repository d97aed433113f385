using Appliance.Datapath.Diagnostics;
using Appliance.Host.Leds;
using Xunit;
using Appliance.Host.State;

namespace Appliance.Host.Tests.Leds;

/// <summary>The kernel-LED line against a temporary directory shaped like /sys/class/leds (this machine has
/// no LED class devices): it really writes the files, the way it writes sysfs on a board.</summary>
public sealed class SysfsLedLineTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("mapp-leds-").FullName;

    private string MakeLed(string name, string maxBrightness = "255\n", string trigger = "none [heartbeat] timer\n")
    {
        var dir = Path.Combine(_root, name);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "brightness"), "255\n");
        File.WriteAllText(Path.Combine(dir, "max_brightness"), maxBrightness);
        File.WriteAllText(Path.Combine(dir, "trigger"), trigger);
        return dir;
    }

    [Fact]
    public void Opening_takes_the_led_from_the_kernel_trigger_and_turns_it_off()
    {
        var dir = MakeLed("board:green:status");
        using var line = new SysfsLedLine(_root, new KernelLedAddress("board:green:status"));
        Assert.Equal("none", File.ReadAllText(Path.Combine(dir, "trigger")));
        Assert.Equal("0", File.ReadAllText(Path.Combine(dir, "brightness")));
    }

    [Fact]
    public void On_writes_max_brightness_and_off_writes_zero()
    {
        var dir = MakeLed("board:amber:link", maxBrightness: "127\n");
        using var line = new SysfsLedLine(_root, new KernelLedAddress("board:amber:link"));
        line.Set(true);
        Assert.Equal("127", File.ReadAllText(Path.Combine(dir, "brightness")));
        line.Set(false);
        Assert.Equal("0", File.ReadAllText(Path.Combine(dir, "brightness")));
    }

    [Fact]
    public void A_missing_led_names_the_path_and_lists_the_leds_that_exist()
    {
        MakeLed("board:green:status");
        var e = Assert.Throws<LedHardwareException>(() => new SysfsLedLine(_root, new KernelLedAddress("board:red:fault")));
        Assert.Contains(Path.Combine(_root, "board:red:fault", "brightness"), e.Message);
        Assert.Contains("board:green:status", e.Message);
    }

    [Fact]
    public void The_controller_drives_a_kernel_led_through_the_factory()
    {
        var dir = MakeLed("sys-hb");
        var time = new FakeTimeSource();
        using var controller = new LedController(new LedLineFactory(() => throw new InvalidOperationException("no GPIO expected"), _root),
            new ApplianceState(), time, new Logger(TextWriter.Null));
        Assert.Empty(controller.Configure(new LedSetup([new LedSpec("hb", new KernelLedAddress("sys-hb"), "on")])));
        controller.Start();
        time.RunUntil(10);
        Assert.Equal("255", File.ReadAllText(Path.Combine(dir, "brightness")));
        Assert.Equal("sysfs led sys-hb", controller.Leds[0].Line);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
