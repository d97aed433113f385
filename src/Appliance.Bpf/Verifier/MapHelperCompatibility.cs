using Appliance.Bpf.Helpers;
using Appliance.Bpf.Maps;

namespace Appliance.Bpf.Verifier;

/// <summary>A map as the verifier names it: the object's map <see cref="Name"/> and its <see cref="Type"/>, and whether
/// programs may change it (<see cref="BpfMapDefinition.ProgramsMayWrite"/>).</summary>
internal readonly record struct MapIdentity(string Name, BpfMapType Type, bool ProgramsMayWrite);

/// <summary>Which maps a helper with a map argument takes, as the kernel's check_map_func_compatibility rules them
/// for the helpers and map types the appliance has — both ways: a map type that only some helpers may use (a prog
/// array only by tail_call, a ringbuf only by the ringbuf helpers, a queue or stack only by push/pop/peek, a perf
/// event array only by perf_event_output, a map of maps only by lookup), and a helper that only some map types serve
/// (lookup_percpu_elem: the per-CPU maps; for_each_map_elem: maps the kernel can walk); and the helpers that change a
/// map (update, delete, push, pop) on a map read-only to programs (BPF_F_RDONLY_PROG). The kernel refuses such a
/// call at load ("cannot pass map_type 2 into func bpf_map_lookup_percpu_elem#195"), so the verifier does where
/// the map argument is the same map on every path (HelperArgumentAnalysis); elsewhere the run faults, as before.</summary>
internal static class MapHelperCompatibility
{
    /// <summary>The argument register that holds the map for <paramref name="helper"/>, or 0 when it takes none.</summary>
    public static int MapArgument(int helper) => (BpfHelperId)helper switch
    {
        BpfHelperId.MapLookupElem or BpfHelperId.MapUpdateElem or BpfHelperId.MapDeleteElem or BpfHelperId.MapPushElem
            or BpfHelperId.MapPopElem or BpfHelperId.MapPeekElem or BpfHelperId.MapLookupPercpuElem or BpfHelperId.RingbufOutput
            or BpfHelperId.RingbufReserve or BpfHelperId.RingbufQuery or BpfHelperId.ForEachMapElem => 1,
        BpfHelperId.TailCall or BpfHelperId.PerfEventOutput => 2,
        _ => 0,
    };

    /// <summary>Why <paramref name="map"/> cannot be passed to <paramref name="helper"/> (<paramref name="name"/> is
    /// the helper's name), or null when it can.</summary>
    public static string? WhyRefused(int helper, string name, MapIdentity map)
    {
        var id = (BpfHelperId)helper;
        string? only = map.Type switch
        {
            BpfMapType.ProgArray when id != BpfHelperId.TailCall => "bpf_tail_call",
            BpfMapType.PerfEventArray when id != BpfHelperId.PerfEventOutput => "bpf_perf_event_output",
            BpfMapType.RingBuf when id is not (BpfHelperId.RingbufOutput or BpfHelperId.RingbufReserve or BpfHelperId.RingbufQuery)
                => "bpf_ringbuf_output, bpf_ringbuf_reserve and bpf_ringbuf_query",
            BpfMapType.Queue or BpfMapType.Stack when id is not (BpfHelperId.MapPushElem or BpfHelperId.MapPopElem or BpfHelperId.MapPeekElem)
                => "bpf_map_push_elem, bpf_map_pop_elem and bpf_map_peek_elem",
            BpfMapType.ArrayOfMaps or BpfMapType.HashOfMaps when id != BpfHelperId.MapLookupElem => "bpf_map_lookup_elem",
            _ => null,
        };
        if (only is not null)
            return Refusal(helper, name, map, $"a map of type {TypeName(map.Type)} is used only by {only}");
        string? takes = id switch
        {
            BpfHelperId.TailCall when map.Type != BpfMapType.ProgArray => "a prog_array",
            BpfHelperId.PerfEventOutput when map.Type != BpfMapType.PerfEventArray => "a perf_event_array",
            BpfHelperId.RingbufOutput or BpfHelperId.RingbufReserve or BpfHelperId.RingbufQuery when map.Type != BpfMapType.RingBuf => "a ringbuf",
            BpfHelperId.MapPushElem or BpfHelperId.MapPopElem or BpfHelperId.MapPeekElem when map.Type is not (BpfMapType.Queue or BpfMapType.Stack)
                => "a queue or a stack",
            BpfHelperId.MapLookupPercpuElem when map.Type is not (BpfMapType.PercpuArray or BpfMapType.PercpuHash or BpfMapType.LruPercpuHash)
                => "a per-CPU map (percpu_array, percpu_hash, lru_percpu_hash)",
            BpfHelperId.ForEachMapElem when map.Type is not (BpfMapType.Hash or BpfMapType.Array or BpfMapType.PercpuHash or BpfMapType.PercpuArray
                or BpfMapType.LruHash or BpfMapType.LruPercpuHash or BpfMapType.ArrayOfMaps or BpfMapType.HashOfMaps)
                => "a map it can walk (hash, array and their per-CPU and LRU kinds)",
            _ => null,
        };
        if (takes is not null) return Refusal(helper, name, map, $"it takes {takes}");
        if (!map.ProgramsMayWrite && id is BpfHelperId.MapUpdateElem or BpfHelperId.MapDeleteElem or BpfHelperId.MapPushElem or BpfHelperId.MapPopElem)
            return $"map '{map.Name}' ({TypeName(map.Type)}) is read-only to programs (BPF_F_RDONLY_PROG), and bpf_{name} changes it " +
                "(the kernel refuses the program too: \"write into map forbidden\")";
        return null;
    }

    private static string Refusal(int helper, string name, MapIdentity map, string why) =>
        $"map '{map.Name}' ({TypeName(map.Type)}) cannot be passed to it: {why} " +
        $"(the kernel refuses the program too: \"cannot pass map_type {(uint)map.Type} into func bpf_{name}#{helper}\")";

    private static string TypeName(BpfMapType type) => BpfMapTypeNames.Short(type) ?? $"map of type {(uint)type}";
}
