namespace Appliance.Bpf.Maps;

/// <summary>BPF_MAP_TYPE_LRU_HASH: a hash that, when full, evicts the least recently used key to make
/// room instead of failing. Recency is tracked like the kernel's approximate LRU, as a clock
/// (second-chance) sweep: a program lookup sets the key's reference bit; eviction walks the slots from
/// where it last stopped, clearing set bits, and takes the first slot whose bit is clear. Lookups from
/// user space do not count as use (as in the kernel). BPF_MAP_TYPE_LRU_PERCPU_HASH is the same with one value per
/// CPU slot (<paramref name="cpuCount"/>), which user space reads and writes all at once, as a percpu_hash.</summary>
public sealed class LruHashMap(BpfMapDefinition definition, int cpuCount = 1) : HashTableMap(definition, cpuCount)
{
    private readonly bool[] _referenced = new bool[definition.MaxEntries];
    private int _hand;

    public override int UserValueSize => Type == BpfMapType.LruPercpuHash ? MapLayout.Stride(ValueSize) * CpuCount : ValueSize;

    protected override void OnProgramLookup(int slot)
    {
        if (!_referenced[slot]) _referenced[slot] = true;
    }

    protected override void OnInserted(int slot) => _referenced[slot] = false;

    protected override int OnFull(HashSlotsAccess slots)
    {
        for (int steps = 0; steps < 2 * slots.Capacity + 1; steps++)
        {
            int slot = _hand;
            _hand = (_hand + 1) % slots.Capacity;
            if (!slots.IsUsed(slot)) continue;
            if (_referenced[slot])
            {
                _referenced[slot] = false;
                continue;
            }
            slots.Remove(slot);
            return slot;
        }
        return -1;
    }
}
