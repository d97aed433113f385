namespace Appliance.Bpf.Maps;

/// <summary>A map of a type the kernel has and the appliance does not (a DEVMAP or XSKMAP an XDP program redirects
/// through, a SOCKMAP, cgroup or task storage …), declared by an object beside programs that never use it. libbpf
/// creates it and the kernel loads those programs, so the appliance loads the object too: the map holds nothing and
/// user space cannot change it (-EOPNOTSUPP), and every program that uses it is refused at load with
/// <see cref="WhyUnsupported"/> (the linker's refusal), the object's other programs load.</summary>
public sealed class UnsupportedMap(BpfMapDefinition definition) : BpfMap(definition)
{
    public override bool TryLookup(ReadOnlySpan<byte> key, out ArraySegment<byte> value)
    {
        value = default;
        return false;
    }

    public override int Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags) => -Errno.EOPNOTSUPP;

    public override int Delete(ReadOnlySpan<byte> key) => -Errno.EOPNOTSUPP;

    public override bool TryGetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey) => false;

    /// <summary>Whether the kernel knows map type <paramref name="raw"/> (enum bpf_map_type, 1 to 33 in Linux 6.18).</summary>
    public static bool IsKernelType(uint raw) => raw is >= 1 and <= (uint)BpfMapType.Arena;

    /// <summary>Why the appliance does not have maps of <paramref name="type"/> ("map type 14 (BPF_MAP_TYPE_DEVMAP) is not
    /// supported (an XDP redirect target …)"), or null for the types it has.</summary>
    public static string? WhyUnsupported(BpfMapType type) => type switch
    {
        BpfMapType.Hash or BpfMapType.Array or BpfMapType.ProgArray or BpfMapType.PercpuHash or BpfMapType.PercpuArray
            or BpfMapType.LruHash or BpfMapType.LruPercpuHash or BpfMapType.LpmTrie or BpfMapType.RingBuf or BpfMapType.Queue
            or BpfMapType.Stack or BpfMapType.PerfEventArray or BpfMapType.ArrayOfMaps or BpfMapType.HashOfMaps => null,
        _ => $"map type {(uint)type} ({KernelName((uint)type)}) is not supported{WhyNot((uint)type)}; supported: " + Supported,
    };

    public const string Supported = "hash, array, prog_array, percpu_hash, percpu_array, lru_hash, lru_percpu_hash, lpm_trie, ringbuf, queue, stack, perf_event_array, array_of_maps, hash_of_maps";

    private static string WhyNot(uint raw) => raw switch
    {
        14 or 16 or 17 or 25 => " (an XDP redirect target; tc programs here redirect with bpf_redirect)",
        7 or 8 or 15 or 18 or 19 or 20 or 21 or 24 or 28 or 29 or 32 => " (needs the kernel's stacks, sockets, cgroups, tasks or inodes)",
        _ => "",
    };

    public static string KernelName(uint raw) => raw switch
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
