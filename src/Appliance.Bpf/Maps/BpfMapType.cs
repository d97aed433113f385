namespace Appliance.Bpf.Maps;

/// <summary>Map types with their Linux values (enum bpf_map_type in include/uapi/linux/bpf.h).</summary>
public enum BpfMapType : uint
{
    Hash = 1,
    Array = 2,
    ProgArray = 3,
    PerfEventArray = 4,
    PercpuHash = 5,
    PercpuArray = 6,
    LruHash = 9,
    LruPercpuHash = 10,
    LpmTrie = 11,
    ArrayOfMaps = 12,
    HashOfMaps = 13,
    Queue = 22,
    Stack = 23,
    RingBuf = 27,
}
