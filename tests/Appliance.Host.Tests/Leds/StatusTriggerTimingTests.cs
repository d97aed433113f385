using Xunit;
using Appliance.Host.State;

namespace Appliance.Host.Tests.Leds;

public sealed class StatusTriggerTimingTests
{
    [Fact]
    public void Booting_blinks_100_on_100_off_from_the_start()
    {
        using var rig = new LedRig().Start(LedRig.Led("status", 0, "status"));
        rig.RunUntil(1000);
        Assert.False(rig.OpenedHigh(0));
        Assert.Equal(LedRig.Blink(0, 1000, 100, 100), rig.Edges(0));
        Assert.Equal([(0.0, true), (100.0, false), (200.0, true)], rig.Edges(0).Take(3));
    }

    [Fact]
    public void Running_is_steady_on()
    {
        using var rig = new LedRig();
        rig.State.Stage = BootStage.Running;
        rig.Start(LedRig.Led("status", 0, "status"));
        rig.RunUntil(5000);
        Assert.Equal([(0.0, true)], rig.Edges(0));
    }

    [Fact]
    public void Boot_to_running_goes_steady_on_at_once()
    {
        using var rig = new LedRig().Start(LedRig.Led("status", 0, "status"));
        rig.RunUntil(520); // boot blink: on 400..500, off 500..600
        rig.State.Stage = BootStage.Running;
        rig.RunUntil(3000);
        // The change wakes the LED thread: steady on from 520, in the middle of the blink's off phase.
        Assert.Equal([(0.0, true), (100.0, false), (200.0, true), (300.0, false), (400.0, true), (500.0, false), (520.0, true)], rig.Edges(0));
    }

    [Theory]
    [InlineData(ConfigHealth.Fallback)]
    [InlineData(ConfigHealth.Invalid)]
    public void Fallback_or_invalid_config_blinks_50_on_50_off(ConfigHealth health)
    {
        using var rig = new LedRig();
        rig.State.ConfigHealth = health;
        rig.State.Stage = BootStage.Running;
        rig.Start(LedRig.Led("status", 0, "status"));
        rig.RunUntil(1000);
        Assert.Equal(LedRig.Blink(0, 1000, 50, 50), rig.Edges(0));
        Assert.Equal(21, rig.Edges(0).Count);
    }

    [Fact]
    public void A_change_waiting_for_confirm_blinks_500_on_500_off_and_steadies_when_it_is_over()
    {
        using var rig = new LedRig();
        rig.State.Stage = BootStage.Running;
        rig.State.ConfirmDeadline = DateTime.UtcNow.AddMinutes(5);
        rig.Start(LedRig.Led("status", 0, "status"));
        rig.RunUntil(2000);
        Assert.Equal(LedRig.Blink(0, 2000, 500, 500), rig.Edges(0));
        rig.State.ConfirmDeadline = null; // confirmed or rolled back
        rig.RunUntil(5000);
        Assert.Equal(LedRig.Blink(0, 2000, 500, 500).Last(), rig.Edges(0)[LedRig.Blink(0, 2000, 500, 500).Count - 1]);
        Assert.True(rig.Edges(0).Last().Item2, "steady on once nothing waits");
    }

    [Fact]
    public void Fault_blinks_1s_on_1s_off_and_wins_over_a_fallback_config()
    {
        using var rig = new LedRig();
        rig.State.ConfigHealth = ConfigHealth.Fallback;
        rig.State.RaiseFault("datapath", "ring setup failed");
        rig.Start(LedRig.Led("status", 0, "status"));
        rig.RunUntil(4500);
        Assert.Equal([(0.0, true), (1000.0, false), (2000.0, true), (3000.0, false), (4000.0, true)], rig.Edges(0));
    }

    [Fact]
    public void Fault_starting_while_running_then_cleared_returns_to_steady_on()
    {
        using var rig = new LedRig();
        rig.State.Stage = BootStage.Running;
        rig.Start(LedRig.Led("status", 0, "status"));
        rig.RunUntil(1010);
        rig.State.RaiseFault("supervisor", "datapath crashed");
        rig.RunUntil(3510); // fault blink from 1010: on (already on), off at 2010, on at 3010
        rig.State.ClearFault("supervisor"); // at 3510: steady on (already on from the blink)
        rig.RunUntil(6000);
        Assert.Equal([(0.0, true), (2010.0, false), (3010.0, true)], rig.Edges(0));
    }
}
