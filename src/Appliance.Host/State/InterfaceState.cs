namespace Appliance.Host.State;

/// <summary>What the LEDs read about one port or pair: its carrier and a packet counter. The link monitor
/// sets <see cref="Carrier"/>; the datapath installs <see cref="PacketCounter"/> (a cheap read of a running
/// total, e.g. rx+tx packets), which the activity trigger samples every 50 ms on the LED thread.
/// <paramref name="changed"/> is called when the carrier changes (<see cref="ApplianceState.Changed"/>).</summary>
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

    /// <summary>The current packet total, or 0 while no counter is installed.</summary>
    public ulong ReadPackets() => _packetCounter?.Invoke() ?? 0;
}
