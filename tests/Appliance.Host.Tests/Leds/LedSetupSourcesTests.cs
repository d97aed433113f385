using Appliance.TestSupport;
using Appliance.Config;
using Appliance.Host.Leds;
using Xunit;

namespace Appliance.Host.Tests.Leds;

public sealed class LedSetupSourcesTests
{
    [Fact]
    public void Config_led_lines_map_to_gpio_leds_and_state_off_is_night_mode()
    {
        var settings = new LedSettings
        {
            State = LedState.Off,
            Lines =
            [
                new Appliance.Config.LedConfig { Name = "status", Chip = "9030000.pl061", Line = 0, Trigger = LedTrigger.Parse("status") },
                new Appliance.Config.LedConfig { Name = "hb", Chip = "9030000.pl061", Line = 5, ActiveLow = true, Trigger = LedTrigger.Parse("heartbeat") },
                new Appliance.Config.LedConfig { Name = "act", Chip = "sim-io", Line = 2, Trigger = LedTrigger.Parse("activity:tenant-a") },
            ],
        };
        var setup = LedConfigMapping.ToSetup(settings);
        Assert.True(setup.AllOff);
        Assert.Equal(
            [
                new LedSpec("status", new GpioLineAddress("9030000.pl061", 0), "status"),
                new LedSpec("hb", new GpioLineAddress("9030000.pl061", 5, ActiveLow: true), "heartbeat"),
                new LedSpec("act", new GpioLineAddress("sim-io", 2), "activity:tenant-a"),
            ],
            setup.Leds);
    }

    [Fact]
    public void The_example_config_leds_load_and_map()
    {
        var example = Path.Combine(RepoRoot(), "examples", "qemu-virt.json");
        var loaded = ConfigLoader.LoadFile(example);
        Assert.NotNull(loaded.Config);
        var setup = LedConfigMapping.ToSetup(loaded.Config!.Leds);
        Assert.Contains(setup.Leds, l => l.Trigger == "status");
        Assert.All(setup.Leds, l => Assert.Null(Appliance.Host.Leds.Triggers.LedTriggerParser.Validate(l.Trigger)));
    }

    [Fact]
    public void Board_profile_leds_parse_with_polarity_and_triggers_containing_colons()
    {
        const string env = """
            BOARD_NAME=qemu-virt
            # LEDs: NAME=GPIOCHIP_LABEL:LINE:POLARITY:TRIGGER
            BOARD_LEDS="
            status=9030000.pl061:0:active-high:status
            link-eth0=9030000.pl061:1:active-high:link:eth0
            heartbeat=9030000.pl061:5:active-low:heartbeat
            pwr=sysfs:board:green:pwr:-:on
            "
            BOARD_POWER_KEY=/dev/input/event0
            """;
        var setup = BoardLedProfile.Parse(env);
        Assert.Equal(
            [
                new LedSpec("status", new GpioLineAddress("9030000.pl061", 0), "status"),
                new LedSpec("link-eth0", new GpioLineAddress("9030000.pl061", 1), "link:eth0"),
                new LedSpec("heartbeat", new GpioLineAddress("9030000.pl061", 5, ActiveLow: true), "heartbeat"),
                new LedSpec("pwr", new KernelLedAddress("board:green:pwr"), "on"),
            ],
            setup.Leds);
    }

    [Fact]
    public void The_qemu_virt_board_profile_parses()
    {
        var setup = BoardLedProfile.Parse(File.ReadAllText(Path.Combine(RepoRoot(), "board", "qemu-virt", "board.env")));
        Assert.NotEmpty(setup.Leds);
        Assert.Contains(setup.Leds, l => l.Trigger == "status");
    }

    [Fact]
    public void Bad_board_profile_entries_are_named()
    {
        var e = Assert.Throws<FormatException>(() => BoardLedProfile.Parse("BOARD_LEDS=\"status=chip:x:active-high:status\""));
        Assert.Contains("status=chip:x:active-high:status", e.Message);
        Assert.Empty(BoardLedProfile.Parse("BOARD_NAME=x\n").Leds);
    }

    public static string RepoRoot() => Repository.Root;
}
