using Appliance.Bpf.Assembly;
using Appliance.Bpf.Maps;
using Appliance.Bpf.Objects;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Bpf.Tests.Kernel;

/// <summary>bpf_map_update_elem from a program, against the kernel: every map kind the random differential uses
/// (array, per-CPU array, hash, per-CPU hash — preallocated and BPF_F_NO_PREALLOC —, LRU hash, LRU per-CPU hash), keys in and past the map, present and
/// absent, and every flags value 0–7 (BPF_ANY, BPF_NOEXIST, BPF_EXIST, BPF_F_LOCK on a value without a spin lock,
/// and their mixes): the same return value (the kernel's checks come in an order: an array says -E2BIG for an index
/// past its end before it looks at BPF_F_LOCK) and the same map contents afterwards, on one CPU, per-CPU values slot by slot.</summary>
[Collection(KernelCollection.Name)]
public sealed class MapUpdateFlagsTests
{
    private static readonly BpfMapDefinition[] Maps =
    [
        new("array", BpfMapType.Array, 4, 16, 4),
        new("percpu_array", BpfMapType.PercpuArray, 4, 16, 4),
        new("hash", BpfMapType.Hash, 4, 16, 4),
        new("percpu_hash", BpfMapType.PercpuHash, 4, 16, 4),
        new("hash_np", BpfMapType.Hash, 4, 16, 4, BpfMapFlags.NoPrealloc), // reserved storage (the kernel allocates per element)
        new("percpu_hash_np", BpfMapType.PercpuHash, 4, 16, 4, BpfMapFlags.NoPrealloc),
        new("lru", BpfMapType.LruHash, 4, 16, 128), // never full: which element the kernel's LRU evicts is its own business
        new("lru_percpu", BpfMapType.LruPercpuHash, 4, 16, 128),
    ];

    /// <summary>update(map, &amp;mark, &amp;{mark, priority}, priority): the key is the context's mark, the flags its priority.</summary>
    private static string Program(int map) => $"""
        mov %r6, %r1
        ldxw %r2, [%r6+8]
        stxw [%r10-4], %r2
        ldxw %r4, [%r6+32]
        stxdw [%r10-24], %r2
        stxdw [%r10-16], %r4
        lddw %r1, map[{map}]
        mov %r2, %r10
        add %r2, -4
        mov %r3, %r10
        add %r3, -24
        call 2
        exit
        """;

    [PrivilegedFact]
    public void UpdateReturnsAndContentsMatchTheKernel() => OneCpu.Run(cpu =>
    {
        var obj = new BpfObject("flags", [.. Maps.Select((m, i) => new BpfProgramImage($"update_{m.Name}", "tc", BpfAssembler.Assemble(Program(i))))], Maps, "GPL");
        using var kernel = KernelObject.Load(obj);
        using var interpreter = new EngineObject(obj, cpuCount: KernelObject.PossibleCpus, processorId: (uint)cpu);
        using var jit = new EngineObject(obj, jit: true, cpuCount: KernelObject.PossibleCpus, processorId: (uint)cpu);
        var mismatches = new List<string>();
        var returned = new HashSet<int>();
        foreach (var map in Maps)
            foreach (uint key in new uint[] { 0, 3, 4, 7, 0, 3, 0xffffffff })
                for (uint flags = 0; flags < 8; flags++)
                {
                    var skb = KernelSkBuff.Create(mark: key, priority: flags);
                    var k = kernel.Run($"update_{map.Name}", PacketBuilder.Arp(), skb);
                    returned.Add((int)k.Retval);
                    foreach (var (name, engine) in new[] { ("interpreter", interpreter), ("JIT", jit) })
                    {
                        var e = engine.Run($"update_{map.Name}", PacketBuilder.Arp(), skb);
                        if (e.Run.Faulted || (uint)e.Run.R0 != k.Retval)
                            mismatches.Add($"{map.Name} key {key} flags {flags} ({name}): {(e.Run.Faulted ? $"faulted ({e.Run.Fault})" : $"{(int)e.Run.R0}")}, the kernel's {(int)k.Retval}");
                    }
                }
        Assert.True(mismatches.Count == 0, string.Join('\n', mismatches));
        foreach (var map in Maps)
        {
            string expected = Contents(kernel.Dump(map.Name));
            Assert.Equal(expected, Contents(interpreter.Dump(map.Name)));
            Assert.Equal(expected, Contents(jit.Dump(map.Name)));
        }
        // What the kernel said covers each check: done, -EINVAL (bad flags, BPF_F_LOCK), -E2BIG (past an array's end, a
        // full hash), -EEXIST (BPF_NOEXIST on a present key), -ENOENT (BPF_EXIST on an absent one).
        Assert.Superset(new HashSet<int> { 0, -22, -7, -17, -2 }, returned);
    });

    /// <summary>A map's entries as sorted key=value hex, to compare contents whatever the iteration order.</summary>
    internal static string Contents(List<(byte[] Key, byte[] Value)> entries) =>
        string.Join(' ', entries.Select(e => $"{Convert.ToHexString(e.Key)}={Convert.ToHexString(e.Value)}").Order(StringComparer.Ordinal));
}
