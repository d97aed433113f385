namespace Appliance.Bpf.Maps;

/// <summary>BPF_MAP_TYPE_LRU_HASH: a hash that, when full, evicts the least recently used key to make
/// room instead of failing. Recency is tracked like the kernel's approximate LRU, as a clock
/// (second-chance) sweep: a program lookup sets the key's reference bit; eviction walks the slots from
/// where it last stopped, clearing set bits, and takes the first slot whose bit is clear. Lookups from
/// user space do not count as use (as in the kernel).</summary>
public sealed class LruHashMap : HashTableMap
{
    private readonly bool[] _referenced;
    private int _hand;

    public LruHashMap(BpfMapDefinition definition) : base(definition, 1) => _referenced = new bool[definition.MaxEntries];

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
