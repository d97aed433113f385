namespace Appliance.Bpf.Maps;

/// <summary>Map types with their Linux values (enum bpf_map_type in include/uapi/linux/bpf.h). The types from
/// <see cref="StackTrace"/> on that are not listed above it are ones the appliance does not have: an object may
/// declare them and loads, each as an <see cref="UnsupportedMap"/>, and only its programs that use one are refused.</summary>
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

    StackTrace = 7,
    CgroupArray = 8,
    DevMap = 14,
    SockMap = 15,
    CpuMap = 16,
    XskMap = 17,
    SockHash = 18,
    CgroupStorage = 19,
    ReuseportSockArray = 20,
    PercpuCgroupStorage = 21,
    SkStorage = 24,
    DevMapHash = 25,
    StructOps = 26,
    InodeStorage = 28,
    TaskStorage = 29,
    BloomFilter = 30,
    UserRingBuf = 31,
    CgrpStorage = 32,
    Arena = 33,
}
