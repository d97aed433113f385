using Appliance.Host.Leds;
using Xunit;

namespace Appliance.Host.Tests.Leds;

public sealed class NightModeTests
{
    [Fact]
    public void Leds_off_darkens_every_led_and_turning_it_on_restores_what_the_triggers_show()
    {
        using var rig = new LedRig().Start(LedRig.Led("on", 0, "on"), LedRig.Led("hb", 1, "heartbeat"));
        rig.RunUntil(1010);
        rig.Controller.AllOff = true;
        rig.RunUntil(1500);
        Assert.All(rig.Controller.Leds, l => Assert.False(l.Lit));
        Assert.True(rig.Controller.Leds.Single(l => l.Name == "on").TriggerOn);
        rig.RunUntil(2010);
        rig.Controller.AllOff = false;
        rig.RunUntil(2560);

        Assert.Equal([(0.0, true), (1010.0, false), (2010.0, true)], rig.Edges(0)); // when night mode is switched on and off
        // The heartbeat keeps its phase: the pulses at 1260 and 1580 fall into the night and are not shown,
        // the next one (2520) is.
        Assert.Equal([(0.0, true), (70.0, false), (320.0, true), (390.0, false), (2520.0, true)], rig.Edges(1));
    }

    [Fact]
    public void Leds_off_in_the_config_keeps_them_dark_from_the_start()
    {
        using var rig = new LedRig().Start(new LedSetup([LedRig.Led("on", 0, "on"), LedRig.Led("st", 1, "status")], AllOff: true));
        rig.RunUntil(2000);
        Assert.Empty(rig.Edges(0));
        Assert.Empty(rig.Edges(1));
        Assert.True(rig.Controller.AllOff);
    }
}
