using System.Diagnostics;
using Appliance.Config;

namespace Appliance.Datapath.Pairs;

/// <summary>Source MACs of hosts on a port's outside (the broadcast and multicast frames the port receives from the
/// wire: ARP requests, DHCP, router advertisements, mDNS — every host sends some), each with when it was last seen,
/// so no tenant learns the MAC of a host out there (<see cref="L2Classifier.Learn"/>). Learned, such a MAC would be
/// claimed on the port and the switch upstream would move it behind the board: the host's traffic, a gateway's the
/// whole LAN's, would go to the tenant. An entry counts for <see cref="Lifetime"/> after it was last seen (a learned
/// MAC's ageing time, so a host that moved behind a tenant is its again after that).
/// <para>A fixed table (<see cref="Capacity"/> entries, open addressing over <see cref="Probe"/> slots: when all are
/// taken the oldest is replaced), written by the group-frame flooder under a lock and read by the forwarding workers
/// without one (a reader sees a slot's MAC only after its time); nothing allocates after construction.</para></summary>
public sealed class OutsideMacs
{
    public const int Capacity = 4096, Probe = 8;

    /// <summary>How long a MAC seen outside stays outside's: 300 s, as a learned MAC's ageing time.</summary>
    public static readonly long Lifetime = 300 * Stopwatch.Frequency;

    private readonly ulong[] _macs = new ulong[Capacity]; // 0: empty (the zero MAC is never recorded)
    private readonly long[] _seen = new long[Capacity];
    private readonly Lock _write = new();

    /// <summary>Records that <paramref name="mac"/> sent a frame from the outside at <paramref name="now"/> (Stopwatch
    /// ticks). A group or zero MAC is no host's and is not recorded.</summary>
    public void Saw(MacAddress mac, long now)
    {
        if (mac.IsMulticast || mac.Value == 0) return;
        int home = Home(mac.Value);
        lock (_write)
        {
            int victim = home;
            long oldest = long.MaxValue;
            for (int i = 0; i < Probe; i++)
            {
                int s = (home + i) & (Capacity - 1);
                ulong m = _macs[s];
                if (m == mac.Value)
                {
                    Volatile.Write(ref _seen[s], now);
                    return;
                }
                long seen = m == 0 ? long.MinValue : _seen[s];
                if (seen < oldest)
                {
                    oldest = seen;
                    victim = s;
                }
            }
            Volatile.Write(ref _macs[victim], 0);
            Volatile.Write(ref _seen[victim], now);
            Volatile.Write(ref _macs[victim], mac.Value);
        }
    }

    /// <summary>Whether <paramref name="mac"/> was seen outside less than <see cref="Lifetime"/> before
    /// <paramref name="now"/>.</summary>
    public bool Has(MacAddress mac, long now)
    {
        if (mac.Value == 0) return false;
        int home = Home(mac.Value);
        for (int i = 0; i < Probe; i++)
        {
            int s = (home + i) & (Capacity - 1);
            if (Volatile.Read(ref _macs[s]) == mac.Value) return now - Volatile.Read(ref _seen[s]) < Lifetime;
        }
        return false;
    }

    private static int Home(ulong mac) => (int)((mac * 0x9E37_79B9_7F4A_7C15UL) >> 52); // 12 bits: Capacity slots
}
