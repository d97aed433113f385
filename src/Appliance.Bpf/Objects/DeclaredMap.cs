using Appliance.Bpf.Maps;

namespace Appliance.Bpf.Objects;

/// <summary>A map as found in the object: its definition and where its symbol lives (section index and
/// byte offset), which is how `lddw` relocations find it.</summary>
public sealed record DeclaredMap(BpfMapDefinition Definition, int SectionIndex, ulong Offset)
{
    /// <summary>The map type for a raw bpf_map_type value, or an error naming the map.</summary>
    public static BpfMapType CheckType(uint raw, string where) => raw switch
    {
        (uint)BpfMapType.Hash or (uint)BpfMapType.Array or (uint)BpfMapType.ProgArray or (uint)BpfMapType.PercpuHash
            or (uint)BpfMapType.PercpuArray or (uint)BpfMapType.LruHash or (uint)BpfMapType.LpmTrie
            or (uint)BpfMapType.RingBuf or (uint)BpfMapType.Queue or (uint)BpfMapType.Stack
            or (uint)BpfMapType.PerfEventArray or (uint)BpfMapType.ArrayOfMaps or (uint)BpfMapType.HashOfMaps => (BpfMapType)raw,
        _ => throw new BpfLoadException($"{where}: map type {raw} ({KernelName(raw)}) is not supported{WhyNot(raw)}; supported: "
            + "hash, array, prog_array, percpu_hash, percpu_array, lru_hash, lpm_trie, ringbuf, queue, stack, perf_event_array, array_of_maps, hash_of_maps"),
    };

    private static string WhyNot(uint raw) => raw switch
    {
        14 or 17 => " (an XDP redirect target; tc programs here redirect with bpf_redirect)",
        7 or 8 => " (needs kernel stacks or cgroups)",
        _ => "",
    };

    private static string KernelName(uint raw) => raw switch
    {
        0 => "BPF_MAP_TYPE_UNSPEC (the map has no type)",
        7 => "BPF_MAP_TYPE_STACK_TRACE",
        8 => "BPF_MAP_TYPE_CGROUP_ARRAY",
        10 => "BPF_MAP_TYPE_LRU_PERCPU_HASH",
        12 => "BPF_MAP_TYPE_ARRAY_OF_MAPS",
        13 => "BPF_MAP_TYPE_HASH_OF_MAPS",
        14 => "BPF_MAP_TYPE_DEVMAP",
        17 => "BPF_MAP_TYPE_XSKMAP",
        30 => "BPF_MAP_TYPE_BLOOM_FILTER",
        _ => "see enum bpf_map_type",
    };
}
