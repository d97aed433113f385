namespace Appliance.Bpf.Maps;

/// <summary>The map_flags of BPF_MAP_CREATE (include/uapi/linux/bpf.h) and which of them each map type takes, as the
/// kernel's alloc checks (array_map_alloc_check, htab_map_alloc_check, trie_alloc, queue_stack_map_alloc_check,
/// ringbuf_map_alloc, fd_array_map_alloc_check …; probed on kernel 6.18): any other bit is refused with EINVAL.</summary>
public static class BpfMapFlags
{
    public const uint NoPrealloc = 1 << 0;
    public const uint NoCommonLru = 1 << 1;
    public const uint NumaNode = 1 << 2;
    public const uint ReadOnly = 1 << 3;
    public const uint WriteOnly = 1 << 4;
    public const uint ZeroSeed = 1 << 6;
    public const uint ReadOnlyProg = 1 << 7;
    public const uint WriteOnlyProg = 1 << 8;
    public const uint Mmapable = 1 << 10;
    public const uint PreserveElems = 1 << 11;
    public const uint InnerMap = 1 << 12;

    private const uint Access = ReadOnly | WriteOnly | ReadOnlyProg | WriteOnlyProg;

    /// <summary>The flags that stay with the map: BPF_F_RDONLY and BPF_F_WRONLY bind only the fd that created it, and the
    /// kernel clears them from the map (bpf_map_flags_retain_permanent), so an inner map is matched without them.</summary>
    public static uint Permanent(uint flags) => flags & ~(ReadOnly | WriteOnly);

    private static readonly string[] Names =
    [
        "BPF_F_NO_PREALLOC", "BPF_F_NO_COMMON_LRU", "BPF_F_NUMA_NODE", "BPF_F_RDONLY", "BPF_F_WRONLY", "BPF_F_STACK_BUILD_ID",
        "BPF_F_ZERO_SEED", "BPF_F_RDONLY_PROG", "BPF_F_WRONLY_PROG", "BPF_F_CLONE", "BPF_F_MMAPABLE", "BPF_F_PRESERVE_ELEMS",
        "BPF_F_INNER_MAP", "BPF_F_LINK", "BPF_F_PATH_FD", "BPF_F_VTYPE_BTF_OBJ_FD", "BPF_F_TOKEN_FD", "BPF_F_SEGV_ON_FAULT",
        "BPF_F_NO_USER_CONV",
    ];

    /// <summary>The flags <paramref name="type"/> takes at creation.</summary>
    public static uint Allowed(BpfMapType type) => type switch
    {
        BpfMapType.Array => NumaNode | Access | Mmapable | InnerMap,
        BpfMapType.PercpuArray => Access,
        BpfMapType.Hash => NoPrealloc | NumaNode | Access | ZeroSeed,
        BpfMapType.PercpuHash => NoPrealloc | Access | ZeroSeed,
        BpfMapType.LruHash => NoCommonLru | NumaNode | Access | ZeroSeed,
        BpfMapType.LruPercpuHash => NoCommonLru | Access | ZeroSeed,
        BpfMapType.LpmTrie => NoPrealloc | NumaNode | Access,
        BpfMapType.Queue or BpfMapType.Stack => NumaNode | Access,
        BpfMapType.RingBuf => NumaNode,
        BpfMapType.ProgArray or BpfMapType.ArrayOfMaps => NumaNode | ReadOnly | WriteOnly,
        BpfMapType.PerfEventArray => NumaNode | ReadOnly | WriteOnly | PreserveElems,
        BpfMapType.HashOfMaps => NoPrealloc | NumaNode | Access | ZeroSeed, // fd_htab_map_alloc_check → htab_map_alloc_check's mask
        _ => uint.MaxValue,
    };

    /// <summary>Why the kernel refuses <paramref name="def"/>'s flags, or null when it takes them.</summary>
    public static string? WhyRefused(BpfMapDefinition def)
    {
        if (def.Type is BpfMapType.LruHash or BpfMapType.LruPercpuHash && (def.Flags & NoPrealloc) != 0)
            return "an LRU hash is always preallocated: BPF_F_NO_PREALLOC is refused (the kernel refuses it: ENOTSUPP)";
        uint extra = def.Flags & ~Allowed(def.Type);
        if (extra != 0)
            return $"map_flags 0x{def.Flags:x} has {Describe(extra)}, which this map type does not take (the kernel refuses it: EINVAL)";
        if ((def.Flags & (ReadOnly | WriteOnly)) == (ReadOnly | WriteOnly) || (def.Flags & (ReadOnlyProg | WriteOnlyProg)) == (ReadOnlyProg | WriteOnlyProg))
            return $"map_flags 0x{def.Flags:x} makes it both read-only and write-only (the kernel refuses it: EINVAL)";
        if (def.SpinLockOffset >= 0 && (def.Flags & (ReadOnlyProg | WriteOnlyProg)) != 0)
            return "a value holding a struct bpf_spin_lock cannot be read-only or write-only to programs (BPF_F_RDONLY_PROG, BPF_F_WRONLY_PROG): " +
                "the lock is written by bpf_spin_lock (the kernel's map_check_btf refuses it: EACCES)";
        if ((def.Flags & NumaNode) != 0 && (def.Flags & NoCommonLru) != 0)
            return "BPF_F_NUMA_NODE with BPF_F_NO_COMMON_LRU: per-CPU LRU lists cannot sit on one NUMA node (the kernel refuses it: EINVAL)";
        return null;
    }

    private static string Describe(uint flags)
    {
        var names = new List<string>();
        for (int bit = 0; bit < 32; bit++)
            if ((flags & (1u << bit)) != 0) names.Add(bit < Names.Length ? $"{Names[bit]} (0x{1u << bit:x})" : $"unknown flag 0x{1u << bit:x}");
        return string.Join(", ", names);
    }
}
