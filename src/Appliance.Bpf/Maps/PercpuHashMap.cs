namespace Appliance.Bpf.Maps;

/// <summary>BPF_MAP_TYPE_PERCPU_HASH: a hash whose every key has one value per CPU slot (see
/// <see cref="BpfCpu"/>). Programs read and write their worker's value; user space sees all of them
/// (<see cref="BpfMap.UserValueSize"/> = cpuCount × round_up(value_size, 8)).</summary>
public sealed class PercpuHashMap(BpfMapDefinition definition, int cpuCount) : HashTableMap(definition, cpuCount)
{
    public override int UserValueSize => MapLayout.Stride(ValueSize) * CpuCount;
}
