namespace Appliance.Host.State;

/// <summary>What the LEDs read about one port or pair: its carrier and a packet counter. The link monitor
/// sets <see cref="Carrier"/>; the datapath installs <see cref="PacketCounter"/> (a cheap read of a running
/// total, e.g. rx+tx packets), which the activity trigger samples every 50 ms on the LED thread while it moves, and
/// <see cref="TrafficWake"/>, which lets an idle activity LED sleep until frames move instead of sampling.
/// <paramref name="changed"/> is called when the carrier changes (<see cref="ApplianceState.Changed"/>), and by the
/// datapath's traffic signal once armed (<see cref="WakeOnTraffic"/>).</summary>
public sealed class InterfaceState(string name, Action? changed = null)
{
    private volatile bool _carrier;
    private volatile Func<ulong>? _packetCounter;

    public string Name { get; } = name;

    public bool Carrier
    {
        get => _carrier;
        set
        {
            if (_carrier == value) return;
            _carrier = value;
            changed?.Invoke();
        }
    }

    public Func<ulong>? PacketCounter
    {
        get => _packetCounter;
        set => _packetCounter = value;
    }

    private volatile Action<Action>? _trafficWake;

    /// <summary>Installed by the datapath with its <see cref="PacketCounter"/>: arms a one-shot call of its argument for
    /// when frames next move (the forwarding engine's <c>TrafficBell.Arm</c>). Null — the kernel's counters before the
    /// datapath runs — leaves the activity trigger sampling.</summary>
    public Action<Action>? TrafficWake
    {
        get => _trafficWake;
        set => _trafficWake = value;
    }

    /// <summary>Arms a wake-up of the LED thread (<see cref="ApplianceState.Changed"/>) for when frames next move; false
    /// when the datapath offers no such signal. Read the counter after this: frames counted later ring it.</summary>
    public bool WakeOnTraffic()
    {
        var arm = _trafficWake;
        if (arm is null || changed is null) return false;
        arm(changed);
        return true;
    }

    /// <summary>The current packet total, or 0 while no counter is installed.</summary>
    public ulong ReadPackets() => _packetCounter?.Invoke() ?? 0;
}
