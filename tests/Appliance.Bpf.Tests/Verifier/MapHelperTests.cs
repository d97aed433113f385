using Appliance.Bpf.Maps;
using Appliance.Bpf.Tests.Vm;
using Appliance.Bpf.Verifier;
using Xunit;

namespace Appliance.Bpf.Tests.Verifier;

/// <summary>A map helper handed a map it cannot use is refused at load, as the kernel's check_map_func_compatibility
/// refuses it ("cannot pass map_type 2 into func bpf_map_lookup_percpu_elem#195"), where the map is the same on every
/// path; the kernel comparison is test:percpu_plain_map in KernelRefusalTests.</summary>
public sealed class MapHelperTests
{
    private static BpfMap Map(string name, BpfMapType type, int key = 4, int value = 8, int entries = 4) =>
        BpfMap.Create(new BpfMapDefinition(name, type, key, value, entries));

    /// <summary>r1 = map[0], r2 = a zeroed 4-byte key (and r3 = 0) on the stack, then the helper.</summary>
    private static string CallWithMap(int helper, string mapRegister = "%r1") => $"""
        stw [%r10-4], 0
        mov %r2, %r10
        add %r2, -4
        mov %r3, 0
        lddw {mapRegister}, map[0]
        call {helper}
        mov %r0, 0
        exit
        """;

    private static string Refusal(string assembly, params BpfMap[] maps) =>
        Assert.Throws<BpfVerifierException>(() => VmTestSupport.Load(assembly, maps)).Message;

    [Fact]
    public void APerCpuLookupNeedsAPerCpuMap()
    {
        var e = Refusal(CallWithMap(195), Map("plain", BpfMapType.Array));
        Assert.Contains("bpf_map_lookup_percpu_elem: map 'plain' (array) cannot be passed to it: it takes a per-CPU map", e);
        Assert.Contains("cannot pass map_type 2 into func bpf_map_lookup_percpu_elem#195", e);
        VmTestSupport.Load(CallWithMap(195), Map("per_cpu", BpfMapType.PercpuArray));
        VmTestSupport.Load(CallWithMap(195), Map("per_cpu", BpfMapType.LruPercpuHash));
    }

    [Fact]
    public void MapsThatServeOnlySomeHelpersAreRefusedElsewhere()
    {
        var progs = BpfMap.Create(new BpfMapDefinition("jumps", BpfMapType.ProgArray, 4, 4, 4));
        Assert.Contains("a map of type prog_array is used only by bpf_tail_call", Refusal(CallWithMap(1), progs));
        var ring = BpfMap.Create(new BpfMapDefinition("events", BpfMapType.RingBuf, 0, 0, 4096));
        Assert.Contains("a map of type ringbuf is used only by bpf_ringbuf_output", Refusal(CallWithMap(1), ring));
        var queue = BpfMap.Create(new BpfMapDefinition("fifo", BpfMapType.Queue, 0, 8, 4));
        Assert.Contains("a map of type queue is used only by bpf_map_push_elem", Refusal(CallWithMap(2), queue));
        var hash = Map("flows", BpfMapType.Hash);
        Assert.Contains("bpf_map_push_elem: map 'flows' (hash) cannot be passed to it: it takes a queue or a stack", Refusal(CallWithMap(87), hash));
        Assert.Contains("bpf_tail_call: map 'flows' (hash) cannot be passed to it: it takes a prog_array", Refusal(CallWithMap(12, "%r2"), hash));
        Assert.Contains("bpf_ringbuf_output: map 'flows' (hash) cannot be passed to it: it takes a ringbuf", Refusal(CallWithMap(130), hash));
        Assert.Contains("bpf_perf_event_output: map 'flows' (hash) cannot be passed to it", Refusal(CallWithMap(25, "%r2"), hash));
        VmTestSupport.Load(CallWithMap(1), hash);
        VmTestSupport.Load(CallWithMap(87), queue);
    }

    [Fact]
    public void AMapThatDiffersBetweenPathsIsLeftToTheRun()
    {
        // r1 is the array or the per-CPU array depending on the frame: the kernel follows each path, we do not.
        VmTestSupport.Load("""
            ldxw %r6, [%r1+0]
            stw [%r10-4], 0
            mov %r2, %r10
            add %r2, -4
            mov %r3, 0
            lddw %r1, map[0]
            jeq %r6, 0, +2
            lddw %r1, map[1]
            call 195
            mov %r0, 0
            exit
            """, Map("plain", BpfMapType.Array), Map("per_cpu", BpfMapType.PercpuArray));
    }
}
