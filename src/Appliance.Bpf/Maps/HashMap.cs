namespace Appliance.Bpf.Maps;

/// <summary>BPF_MAP_TYPE_HASH: at most max_entries keys; a new key when full gives -E2BIG.</summary>
public sealed class HashMap(BpfMapDefinition definition) : HashTableMap(definition, 1);
