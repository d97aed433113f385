namespace Appliance.Bpf.Maps;

/// <summary>BPF_MAP_TYPE_PERF_EVENT_ARRAY (key u32 CPU index, value u32): the target of bpf_perf_event_output.
/// The appliance has no perf events for user space to attach: every slot is "open" and the records go to the
/// trace log (see the helper). User space cannot store perf-event fds, so the map holds no values.</summary>
public sealed class PerfEventArrayMap(BpfMapDefinition definition) : KeylessMap(definition);
