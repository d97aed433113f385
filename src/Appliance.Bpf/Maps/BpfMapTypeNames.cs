namespace Appliance.Bpf.Maps;

/// <summary>Map types by name: the short names of the types the appliance has, the kernel's enum names of the others,
/// and why a type is not here (the loader's, linker's and verifier's messages all name types through this).</summary>
public static class BpfMapTypeNames
{
    /// <summary>Whether the kernel knows map type <paramref name="raw"/> (enum bpf_map_type, 1 to 33 in Linux 6.18).</summary>
    public static bool IsKernelType(uint raw) => raw is >= 1 and <= (uint)BpfMapType.Arena;

    /// <summary>The types the appliance has and their short names ("percpu_hash", as bpftool prints them), in the order
    /// messages list them: the one list of them.</summary>
    private static readonly (BpfMapType Type, string Name)[] Had =
    [
        (BpfMapType.Hash, "hash"), (BpfMapType.Array, "array"), (BpfMapType.ProgArray, "prog_array"),
        (BpfMapType.PercpuHash, "percpu_hash"), (BpfMapType.PercpuArray, "percpu_array"), (BpfMapType.LruHash, "lru_hash"),
        (BpfMapType.LruPercpuHash, "lru_percpu_hash"), (BpfMapType.LpmTrie, "lpm_trie"), (BpfMapType.RingBuf, "ringbuf"),
        (BpfMapType.Queue, "queue"), (BpfMapType.Stack, "stack"), (BpfMapType.PerfEventArray, "perf_event_array"),
        (BpfMapType.ArrayOfMaps, "array_of_maps"), (BpfMapType.HashOfMaps, "hash_of_maps"),
    ];

    /// <summary>The short name of a type the appliance has, or null for the others.</summary>
    public static string? Short(BpfMapType type)
    {
        foreach (var (t, name) in Had)
            if (t == type) return name;
        return null;
    }

    /// <summary>Why the appliance does not have maps of <paramref name="type"/> ("map type 14 (BPF_MAP_TYPE_DEVMAP) is not
    /// supported (an XDP redirect target …)"), or null for the types it has.</summary>
    public static string? WhyUnsupported(BpfMapType type) => Short(type) is null
        ? $"map type {(uint)type} ({KernelName((uint)type)}) is not supported{WhyNot((uint)type)}; supported: " + Supported
        : null;

    /// <summary>The types the appliance has, by their short names.</summary>
    public static readonly string Supported = string.Join(", ", Had.Select(h => h.Name));

    private static string WhyNot(uint raw) => raw switch
    {
        14 or 16 or 17 or 25 => " (an XDP redirect target; tc programs here redirect with bpf_redirect)",
        7 or 8 or 15 or 18 or 19 or 20 or 21 or 24 or 28 or 29 or 32 => " (needs the kernel's stacks, sockets, cgroups, tasks or inodes)",
        _ => "",
    };

    /// <summary>The kernel's enum name of a map type the appliance does not have (or of a value the kernel does not
    /// know): only those are ever named this way.</summary>
    public static string KernelName(uint raw) => raw switch
    {
        0 => "BPF_MAP_TYPE_UNSPEC (the map has no type)",
        7 => "BPF_MAP_TYPE_STACK_TRACE",
        8 => "BPF_MAP_TYPE_CGROUP_ARRAY",
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
