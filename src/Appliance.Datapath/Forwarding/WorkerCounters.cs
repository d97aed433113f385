namespace Appliance.Datapath.Forwarding;

/// <summary>A block of 64-bit counters with one slot per datapath worker (the AF_XDP worker and the group-frame
/// flooder): each worker adds to its own slot with plain stores (no lock, no interlocked op on the hot path) and
/// readers sum the slots with Volatile reads.</summary>
public sealed class WorkerCounters
{
    /// <summary>Worker slots: 0 = the forwarding engine's worker, 1 = the group-frame flooder.</summary>
    public const int Workers = 2;

    private readonly long[] _values;
    private readonly int _fields;

    public WorkerCounters(int fields)
    {
        _fields = fields;
        _values = new long[fields * Workers];
    }

    public void Add(int worker, int field, long amount) => _values[worker * _fields + field] += amount;

    public long Read(int field)
    {
        long sum = 0;
        for (int w = 0; w < Workers; w++) sum += Volatile.Read(ref _values[w * _fields + field]);
        return sum;
    }
}
