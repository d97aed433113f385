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
            or (uint)BpfMapType.PercpuArray or (uint)BpfMapType.LruHash or (uint)BpfMapType.LruPercpuHash or (uint)BpfMapType.LpmTrie
            or (uint)BpfMapType.RingBuf or (uint)BpfMapType.Queue or (uint)BpfMapType.Stack
            or (uint)BpfMapType.PerfEventArray or (uint)BpfMapType.ArrayOfMaps or (uint)BpfMapType.HashOfMaps => (BpfMapType)raw,
        _ => throw new BpfLoadException($"{where}: map type {raw} ({KernelName(raw)}) is not supported{WhyNot(raw)}; supported: "
            + "hash, array, prog_array, percpu_hash, percpu_array, lru_hash, lru_percpu_hash, lpm_trie, ringbuf, queue, stack, perf_event_array, array_of_maps, hash_of_maps"),
    };

    private static string WhyNot(uint raw) => raw switch
    {
        14 or 16 or 17 or 25 => " (an XDP redirect target; tc programs here redirect with bpf_redirect)",
        7 or 8 or 15 or 18 or 19 or 20 or 21 or 24 or 28 or 29 or 32 => " (needs the kernel's stacks, sockets, cgroups, tasks or inodes)",
        _ => "",
    };

    private static string KernelName(uint raw) => raw switch
    {
        0 => "BPF_MAP_TYPE_UNSPEC (the map has no type)",
        7 => "BPF_MAP_TYPE_STACK_TRACE",
        8 => "BPF_MAP_TYPE_CGROUP_ARRAY",
        10 => "BPF_MAP_TYPE_LRU_PERCPU_HASH",
        11 => "BPF_MAP_TYPE_LPM_TRIE",
        12 => "BPF_MAP_TYPE_ARRAY_OF_MAPS",
        13 => "BPF_MAP_TYPE_HASH_OF_MAPS",
        14 => "BPF_MAP_TYPE_DEVMAP",
        15 => "BPF_MAP_TYPE_SOCKMAP",
        16 => "BPF_MAP_TYPE_CPUMAP",
        17 => "BPF_MAP_TYPE_XSKMAP",
        18 => "BPF_MAP_TYPE_SOCKHASH",
        19 => "BPF_MAP_TYPE_CGROUP_STORAGE",
        20 => "BPF_MAP_TYPE_REUSEPORT_SOCKARRAY",
        21 => "BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE",
        24 => "BPF_MAP_TYPE_SK_STORAGE",
        25 => "BPF_MAP_TYPE_DEVMAP_HASH",
        26 => "BPF_MAP_TYPE_STRUCT_OPS",
        28 => "BPF_MAP_TYPE_INODE_STORAGE",
        29 => "BPF_MAP_TYPE_TASK_STORAGE",
        30 => "BPF_MAP_TYPE_BLOOM_FILTER",
        31 => "BPF_MAP_TYPE_USER_RINGBUF",
        32 => "BPF_MAP_TYPE_CGRP_STORAGE",
        33 => "BPF_MAP_TYPE_ARENA",
        _ => "see enum bpf_map_type",
    };
}
