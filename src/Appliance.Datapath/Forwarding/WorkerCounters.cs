using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Appliance.Datapath.Forwarding;

/// <summary>A block of 64-bit counters with one slot per datapath thread (the forwarding workers 0..N−1 and the
/// group-frame flooder, <see cref="FlooderSlot"/>): each thread adds to its own slot with plain stores (no lock, no
/// interlocked op on the hot path) and readers sum the slots with Volatile reads. A slot's array is made the first
/// time its thread counts (once per counter block and thread, never per frame), so a block costs only what the
/// threads that use it need, and two threads never write the same cache line. A struct, held in a readonly field of
/// its owner (<see cref="SideCounters"/>, <see cref="ProgramCounters"/>): a frame's count reaches its slot with one
/// dependent load fewer than through an object of its own.</summary>
public readonly struct WorkerCounters
{
    /// <summary>Forwarding workers a block has slots for (the `workers` config maximum).</summary>
    public const int MaxWorkers = Config.WorkerSettings.Max;
    /// <summary>The group-frame flooder's slot (after every forwarding worker's).</summary>
    public const int FlooderSlot = MaxWorkers;
    /// <summary>Slots: the workers and the flooder.</summary>
    public const int Slots = MaxWorkers + 1;

    private readonly long[]?[] _slots = new long[]?[Slots];
    private readonly int _fields;

    public WorkerCounters(int fields) => _fields = fields;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(int worker, int field, long amount) => Of(worker)[field] += amount;

    /// <summary>The slot of <paramref name="worker"/>, for its own thread to add to several fields with one lookup
    /// (a frame's packets and bytes): plain stores, as <see cref="Add"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal long[] Of(int worker) => _slots[worker] ?? Slot(worker);

    /// <summary>The first field of <paramref name="worker"/>'s slot, for its own thread's per-frame counts: the block's
    /// owner adds its field constants (each below the block's field count) with <see cref="Unsafe.Add{T}(ref T, int)"/>,
    /// which checks no bounds, the slot being made with every field.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ref long FieldsOf(int worker) => ref MemoryMarshal.GetArrayDataReference(Of(worker));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private long[] Slot(int worker)
    {
        // Only the slot's own thread makes it; readers see null (0) until it is published.
        var values = new long[_fields];
        Volatile.Write(ref _slots[worker], values);
        return values;
    }

    /// <summary>The field summed over every slot.</summary>
    public long Read(int field)
    {
        long sum = 0;
        for (int w = 0; w < Slots; w++)
            if (Volatile.Read(ref _slots[w]) is { } values) sum += Volatile.Read(ref values[field]);
        return sum;
    }

    /// <summary>The field as slot <paramref name="worker"/> counted it.</summary>
    public long Read(int worker, int field) => Volatile.Read(ref _slots[worker]) is { } values ? Volatile.Read(ref values[field]) : 0;
}
