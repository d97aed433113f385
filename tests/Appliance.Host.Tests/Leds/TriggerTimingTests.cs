using Xunit;

namespace Appliance.Host.Tests.Leds;

public sealed class TriggerTimingTests
{
    [Fact]
    public void Heartbeat_is_a_double_pulse_70_on_250_off_70_on_then_off_to_1260()
    {
        using var rig = new LedRig().Start(LedRig.Led("hb", 1, "heartbeat"));
        rig.RunUntil(2560);
        Assert.Equal(
            [(0.0, true), (70.0, false), (320.0, true), (390.0, false), (1260.0, true), (1330.0, false), (1580.0, true), (1650.0, false), (2520.0, true)],
            rig.Edges(1));
    }

    [Fact]
    public void Link_follows_carrier_at_once()
    {
        using var rig = new LedRig();
        var eth0 = rig.State.Interface("eth0");
        rig.Start(LedRig.Led("link", 2, "link:eth0"));
        rig.RunUntil(120);
        eth0.Carrier = true;
        rig.RunUntil(480);
        eth0.Carrier = false;
        rig.RunUntil(700);
        eth0.Carrier = true;
        rig.RunUntil(1000);
        // A state change wakes the LED thread: each shows when it is made (it used to wait for a 250 ms state poll).
        Assert.Equal([(120.0, true), (480.0, false), (700.0, true)], rig.Edges(2));
    }

    [Fact]
    public void Link_of_another_port_does_not_light_it()
    {
        using var rig = new LedRig().Start(LedRig.Led("link", 2, "link:eth0"));
        rig.State.Interface("eth1").Carrier = true;
        rig.RunUntil(1000);
        Assert.Empty(rig.Edges(2));
    }

    [Fact]
    public void Activity_stays_dark_without_traffic_and_flashes_when_the_counter_moves()
    {
        using var rig = new LedRig();
        ulong packets = 1000;
        rig.State.Interface("pair-a").PacketCounter = () => Volatile.Read(ref packets);
        rig.Start(LedRig.Led("act", 3, "activity:pair-a"));
        rig.RunUntil(510);
        Assert.Empty(rig.Edges(3)); // counter constant: never lit (the first sample is only the baseline)

        Interlocked.Increment(ref packets); // one packet → one 50 ms flash at the next idle sample (every 250 ms)
        rig.RunUntil(1010);
        Assert.Equal([(750.0, true), (800.0, false)], rig.Edges(3));

        for (var t = 1010; t < 1200; t += 50) // steady traffic: sampled every 50 ms, toggles at every sample
        {
            rig.RunUntil(t);
            Interlocked.Add(ref packets, 7);
        }
        rig.RunUntil(2000);
        Assert.Equal([(750.0, true), (800.0, false), (1050.0, true), (1100.0, false), (1150.0, true), (1200.0, false)], rig.Edges(3));
    }

    /// <summary>With the datapath's traffic signal an idle activity LED never wakes (it sampled 4 times a second): it
    /// flashes when a forwarding worker rings the signal after moving frames, and sleeps on it again once dark.</summary>
    [Fact]
    public void Activity_with_the_datapaths_traffic_signal_sleeps_until_frames_move()
    {
        using var rig = new LedRig();
        ulong packets = 1000;
        Action? armed = null;
        var iface = rig.State.Interface("pair-a");
        iface.PacketCounter = () => Volatile.Read(ref packets);
        iface.TrafficWake = ring => Volatile.Write(ref armed, ring);
        rig.Start(LedRig.Led("act", 3, "activity:pair-a"));
        rig.RunUntil(60_000);
        Assert.Equal(0, rig.Time.Wakeups); // a minute without traffic: the LED thread never woke
        Assert.Empty(rig.Edges(3));

        Interlocked.Increment(ref packets); // a frame, then what a forwarding worker does when it next goes idle
        Interlocked.Exchange(ref armed, null)!.Invoke();
        rig.RunUntil(120_000);
        Assert.Equal([(60_000.0, true), (60_050.0, false)], rig.Edges(3)); // flashed at once, 50 ms
        Assert.NotNull(Volatile.Read(ref armed)); // dark again and asleep on the signal
        Assert.Equal(2, rig.Time.Wakeups); // the ring and the flash's end; then nothing for a minute
    }

    [Fact]
    public void Activity_without_a_counter_never_lights()
    {
        using var rig = new LedRig().Start(LedRig.Led("act", 3, "activity:eth9"));
        rig.RunUntil(2000);
        Assert.Empty(rig.Edges(3));
    }

    [Fact]
    public void Fault_trigger_is_on_while_any_fault_is_active()
    {
        using var rig = new LedRig().Start(LedRig.Led("fault", 4, "fault"));
        rig.RunUntil(210);
        rig.State.RaiseFault("config", "refused");
        rig.RunUntil(260);
        rig.State.RaiseFault("datapath", "crashed");
        rig.RunUntil(410);
        rig.State.ClearFault("config"); // datapath still faulty: stays on
        rig.RunUntil(610);
        rig.State.ClearFault("datapath");
        rig.RunUntil(1000);
        Assert.Equal([(210.0, true), (610.0, false)], rig.Edges(4)); // when the first fault is raised and the last cleared
    }

    [Fact]
    public void State_driven_leds_sleep_until_the_state_changes()
    {
        using var rig = new LedRig();
        rig.State.Stage = Appliance.Host.State.BootStage.Running;
        rig.Start(LedRig.Led("status", 0, "status"), LedRig.Led("link", 2, "link:eth0"), LedRig.Led("fault", 4, "fault"), LedRig.Led("on", 5, "on"));
        rig.RunUntil(60_000);
        Assert.Equal(0, rig.Time.Wakeups); // a minute without a change: the LED thread never woke (it polled 4 times a second)
        rig.State.Interface("eth0").Carrier = true;
        rig.RunUntil(61_000);
        Assert.Equal(1, rig.Time.Wakeups);
        Assert.Equal([(60_000.0, true)], rig.Edges(2));
        rig.State.Interface("eth0").Carrier = true; // no change, no wake-up
        rig.RunUntil(62_000);
        Assert.Equal(1, rig.Time.Wakeups);
    }

    [Fact]
    public void On_is_lit_from_the_start_and_off_never_is()
    {
        using var rig = new LedRig().Start(LedRig.Led("a", 5, "on"), LedRig.Led("b", 6, "off"));
        rig.RunUntil(3000);
        Assert.Equal([(0.0, true)], rig.Edges(5));
        Assert.Empty(rig.Edges(6));
        Assert.False(rig.OpenedHigh(6));
    }
}
