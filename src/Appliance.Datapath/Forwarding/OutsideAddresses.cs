using System.Buffers.Binary;
using Appliance.Bpf.Routing;
using Appliance.Config;
using Appliance.Datapath.Pairs;
using Appliance.Datapath.Runtime;

namespace Appliance.Datapath.Forwarding;

/// <summary>Addresses hosts on a port's outside claimed lately (<see cref="FrameClaims"/> of the broadcast and
/// multicast frames the port receives from the wire: the LAN's gateway asks for its neighbours in broadcast ARP and
/// multicast neighbour solicitations and advertises itself as a router from its link-local address), each with when it
/// was last seen, so no L2 tenant claims one of them (<see cref="AddressGuard"/>): a tenant that said "the gateway's
/// address is at my MAC" would take the traffic every host on the LAN sends to its gateway. An entry counts for
/// <see cref="Lifetime"/> after it was last seen, as <see cref="OutsideMacs"/> does for MACs.
/// <para>Not recorded: a frame whose source MAC a pair of the port owns (configured, or learned and not moved out by
/// this very frame: a tenant's own frame sent back by a hairpinning switch must not lock it out of its address), and an
/// address an L2 tenant is configured with (configured addresses are the tenant's whatever the outside says).</para>
/// <para>A fixed table (<see cref="Capacity"/> entries, open addressing over <see cref="Probe"/> slots: when all are
/// taken the one seen longest ago is replaced) of 16-byte keys (IPv4 as <c>::ffff:a.b.c.d</c>), written by the
/// group-frame flooder under a lock and read by the forwarding workers without one: a slot's version is odd while it is
/// rewritten, and a reader that sees it change reads again. Nothing allocates after construction.</para></summary>
public sealed class OutsideAddresses
{
    public const int Capacity = 4096, Probe = 8;

    /// <summary>How long an address claimed outside stays outside's: <see cref="OutsideMacs.Lifetime"/> (300 s).</summary>
    public static long Lifetime => OutsideMacs.Lifetime;

    private readonly ulong[] _high = new ulong[Capacity], _low = new ulong[Capacity]; // 0, 0: empty
    private readonly long[] _seen = new long[Capacity];
    private readonly int[] _version = new int[Capacity];
    private readonly Lock _write = new();

    /// <summary>Records the addresses <paramref name="frame"/>, which the port received from its outside at
    /// <paramref name="now"/> (Stopwatch ticks), claims (above for what is left out).</summary>
    public void SawFrame(ReadOnlySpan<byte> frame, PortRuntime port, RuntimeTopology topology, long now)
    {
        if (frame.Length < 14 || port.Classifier.OwnsAny(MacAddress.Read(frame[6..]))) return;
        var recorder = new Recorder(this, topology, now);
        FrameClaims.Read(frame, ref recorder);
    }

    /// <summary>Records that a host outside claimed <paramref name="address"/> at <paramref name="now"/>.</summary>
    public void Saw(IpFamily family, ReadOnlySpan<byte> address, long now)
    {
        if (!Key(family, address, out ulong high, out ulong low)) return;
        int home = Home(high, low);
        lock (_write)
        {
            int victim = home;
            long oldest = long.MaxValue;
            for (int i = 0; i < Probe; i++)
            {
                int s = (home + i) & (Capacity - 1);
                if (_high[s] == high && _low[s] == low)
                {
                    Volatile.Write(ref _seen[s], now);
                    return;
                }
                long seen = (_high[s] | _low[s]) == 0 ? long.MinValue : _seen[s];
                if (seen < oldest)
                {
                    oldest = seen;
                    victim = s;
                }
            }
            Interlocked.Increment(ref _version[victim]); // odd: a reader reading it now reads again
            _high[victim] = high;
            _low[victim] = low;
            _seen[victim] = now;
            Interlocked.Increment(ref _version[victim]);
        }
    }

    /// <summary>Whether a host outside claimed <paramref name="address"/> less than <see cref="Lifetime"/> before
    /// <paramref name="now"/>.</summary>
    public bool Has(IpFamily family, ReadOnlySpan<byte> address, long now)
    {
        if (!Key(family, address, out ulong high, out ulong low)) return false;
        int home = Home(high, low);
        for (int i = 0; i < Probe; i++)
        {
            int s = (home + i) & (Capacity - 1);
            for (int attempt = 0; attempt < 8; attempt++)
            {
                int version = Volatile.Read(ref _version[s]);
                ulong h = Volatile.Read(ref _high[s]), l = Volatile.Read(ref _low[s]);
                long seen = Volatile.Read(ref _seen[s]);
                if ((version & 1) != 0 || Volatile.Read(ref _version[s]) != version) continue; // being rewritten
                if (h == high && l == low) return now - seen < Lifetime;
                break;
            }
        }
        return false;
    }

    private static bool Key(IpFamily family, ReadOnlySpan<byte> address, out ulong high, out ulong low)
    {
        if (family == IpFamily.Inet && address.Length >= 4)
        {
            high = 0;
            low = 0xFFFF_0000_0000UL | BinaryPrimitives.ReadUInt32BigEndian(address);
        }
        else if (family == IpFamily.Inet6 && address.Length >= 16)
        {
            high = BinaryPrimitives.ReadUInt64BigEndian(address);
            low = BinaryPrimitives.ReadUInt64BigEndian(address[8..]);
        }
        else
        {
            high = low = 0;
        }
        return (high | low) != 0;
    }

    private static int Home(ulong high, ulong low) => (int)(((high * 31) ^ low) * 0x9E37_79B9_7F4A_7C15UL >> 52); // 12 bits

    /// <summary>Records each address claimed, except a configured L2 tenant's; never refuses.</summary>
    private readonly struct Recorder(OutsideAddresses table, RuntimeTopology topology, long now) : IClaimJudge
    {
        public bool Address(IpFamily family, ReadOnlySpan<byte> address)
        {
            if (topology.L2Addresses.Lookup(family, address) is null) table.Saw(family, address, now);
            return false;
        }

        public bool LinkLayer(MacAddress mac) => false;
    }
}
