using Appliance.Bpf.Maps;

namespace Appliance.Bpf.Oracle;

/// <summary>One example program with the map contents both sides start from. Entries use the ports and
/// addresses <see cref="PacketCorpus"/> draws from, so every branch of the program is taken.
/// For PROG_ARRAY maps the value is the index of a program in the object (the engine's convention); the
/// kernel side stores that program's fd. <paramref name="Libbpf"/>: the kernel side loads the object with libbpf
/// (<see cref="KernelObject.LoadWithLibbpf"/>), for programs that need BTF (callbacks, spin locks, maps of maps).
/// <paramref name="RefusedByEngine"/>: programs of the object the kernel loads and the appliance refuses by design
/// (another program type); the engine loads the object without them, and the test checks each is refused.</summary>
public sealed record DifferentialScenario(string Example, string Program, (string Map, byte[] Key, byte[] Value)[] Entries,
    (string Map, uint Slot, string Program)[]? TailCalls = null, bool Libbpf = false, string[]? RefusedByEngine = null)
{
    private static byte[] B(params byte[] bytes) => bytes;
    private static byte[] U16(ushort v) => BitConverter.GetBytes(v);
    private static byte[] U32(uint v) => BitConverter.GetBytes(v);
    private static byte[] Cat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    /// <summary>The corpus (tests/Appliance.Bpf.Tests/Corpus): programs in the style of public tc programs, with
    /// map contents that steer the generated frames (<see cref="PacketCorpus"/> addresses and ports) down their paths.</summary>
    public static readonly DifferentialScenario[] Corpus =
    [
        new("l4_lb", "l4_lb",
        [
            ("vips", B(10, 0, 0, 2, 0, 80, 6, 0), Cat(U32(0), U32(3))),
            ("vips", B(10, 1, 2, 3, 0, 53, 17, 0), Cat(U32(3), U32(2))),
            ("vips", B(10, 0, 0, 1, 1, 187, 6, 0), Cat(U32(0), U32(0))),
            ("backends", U32(0), Cat(B(172, 16, 0, 1), B(2, 0, 0, 0, 0, 1), U16(3))),
            ("backends", U32(1), Cat(B(172, 16, 0, 2), B(2, 0, 0, 0, 0, 2), U16(4))),
            ("backends", U32(2), Cat(B(172, 16, 0, 3), B(2, 0, 0, 0, 0, 3), U16(5))),
            ("backends", U32(3), Cat(B(172, 17, 0, 1), B(2, 0, 0, 0, 1, 1), U16(6))),
            ("backends", U32(4), Cat(B(172, 17, 0, 2), B(2, 0, 0, 0, 1, 2), U16(7))),
        ]),
        new("gre_encap", "gre_encap",
        [
            ("tunnels", B(24, 0, 0, 0, 10, 0, 0, 0), B(192, 0, 2, 1, 198, 51, 100, 7, 64, 0, 0, 0)),
            ("tunnels", B(16, 0, 0, 0, 192, 168, 0, 0), B(192, 0, 2, 1, 203, 0, 113, 9, 32, 0, 0, 0)),
        ]),
        new("udp_decap", "udp_decap", []),
        new("snat", "snat", []),
        new("port_forward", "port_forward", [("forwards", U16(8080), U16(80)), ("forwards", U16(443), U16(8443))]),
        new("dscp_classifier", "dscp_classifier",
            [("by_dscp", U32(0), Cat(U32(0x10), U32(3))), ("by_dscp", U32(46), Cat(U32(0x12e), U32(7)))]),
        new("percpu_stats", "percpu_stats", []),
        new("flow_lru", "flow_lru", []),
        new("lpm_acl_dual", "lpm_acl_dual",
        [
            ("acl4", B(8, 0, 0, 0, 10, 0, 0, 0), Cat(U32(2), U32(0x77))),
            ("acl4", B(32, 0, 0, 0, 10, 0, 0, 1), Cat(U32(1), U32(0))),
            ("acl4", B(16, 0, 0, 0, 192, 168, 0, 0), Cat(U32(1), U32(0))),
            ("acl6", Cat(U32(8), B(0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)), Cat(U32(2), U32(0x66))),
            ("acl6", Cat(U32(128), B(0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)), Cat(U32(1), U32(0))),
        ]),
        new("globals_atomics", "globals_atomics", []),
        new("subprog_parse", "subprog_parse", []),
        new("proto_dispatch", "proto_dispatch", [],
            [("handlers", 0, "handle_tcp"), ("handlers", 1, "handle_udp"), ("handlers", 2, "handle_ipv6")]),
        new("vlan_translate", "vlan_translate", [.. Enumerable.Range(1, 189).Where(v => v % 3 == 0).Select(v => ("vid_map", U16((ushort)v), U16((ushort)(4095 - v))))]),
        new("ttl_router", "ttl_router", [("next_hop", B(10, 0, 0, 1), U32(3)), ("next_hop", B(10, 0, 0, 2), U32(4))]),
        new("icmp_echo", "icmp_echo", [("owned", B(10, 0, 0, 2), B(1)), ("owned", B(10, 1, 2, 3), B(1))]),
        new("ecn_remark", "ecn_remark", [("dscp_by_net", B(10, 0, 0, 0), B(10)), ("dscp_by_net", B(10, 1, 2, 0), B(46)), ("dscp_by_net", B(192, 168, 1, 0), B(8))]),
        new("mtu_guard", "mtu_guard", []),
        new("flow_events", "flow_events", []),
        new("core_reads", "core_reads", []),
        new("loop_scan", "loop_scan",
        [
            ("rules", U32(0), Cat(U16(0), U16(5), U32(0))),
            ("rules", U32(2), Cat(U16(80), U16(7), U32(0))),
            ("rules", U32(3), Cat(U16(53), U16(11), U32(0))),
            ("rules", U32(5), Cat(U16(443), U16(13), U32(0))),
        ], Libbpf: true),
        new("spin_meter", "spin_meter", [], Libbpf: true),
        new("tenant_tables", "tenant_tables",
        [
            ("ports_a", U16(80), Cat(U32(0xa80), U32(0))), ("ports_a", U16(53), Cat(U32(0xa53), U32(2))),
            ("ports_b", U16(80), Cat(U32(0xb80), U32(2))), ("ports_b", U16(443), Cat(U32(0xb443), U32(0))),
        ], Libbpf: true),
    ];
    /// <summary>The test programs (TestPrograms/): bpf-to-bpf calls and globals, context fields, packet helpers.</summary>
    public static readonly DifferentialScenario[] TestPrograms =
    [
        new("test:subprog_globals", "first", []),
        new("test:subprog_globals", "second", []),
        new("test:subprog_globals", "lone", []),
        new("test:ctx_helpers", "ctx_fields", []),
        new("test:ctx_helpers", "bytes_and_csum", []),
        new("test:ctx_helpers", "resize", []),
        new("test:ctx_helpers", "vlan_push_pop", []),
        new("test:helper_edges", "csum_any_length", []),
        new("test:helper_edges", "tail_limits", []),
        new("test:helper_edges", "room_limits", []),
        new("test:helper_edges", "bytes_edges", []),
        new("test:csum_state", "csum_levels", []),
        new("test:prog_array_init", "dispatch_by_length", [], Libbpf: true), // libbpf fills the kernel's slots from .values
        new("test:legacy_loads", "absolute_loads", [], Libbpf: true), // a sub-program with LD_ABS needs BTF in the kernel
        new("test:legacy_loads", "indirect_loads", [], Libbpf: true),
        new("test:more_helpers", "ecn_mark", []),
        new("test:more_helpers", "nat64", []),
        new("test:more_helpers", "metadata", []),
        new("test:more_helpers", "mtu", []),
        new("test:routing_helpers", "fib_probe", []),
        new("test:routing_helpers", "neigh_probe", []),
        new("test:routing_helpers", "peer_probe", []),
        new("test:more_helpers", "clocks", []),
        new("test:more_helpers", "queues", []),
        new("test:core_kernel_types", "core_exists", []),
        new("test:perf_buffer", "sample_by_length", [], Libbpf: true), // libbpf sizes the kernel's map: one entry per possible CPU
        new("test:void_subprog", "void_calls", [], Libbpf: true),
        new("test:printk_args", "printk_many", []),
        new("test:newer_helpers", "percpu_slots", []),
        new("test:spin_lock_update", "locked_updates", [], Libbpf: true), // spin locks need BTF in the kernel
        new("test:map_access_kept", "keeps_to_the_flags", [("ro", U32(0), BitConverter.GetBytes(7UL)), ("ro_hash", U32(1), BitConverter.GetBytes(100UL))]),
        new("test:big_keys", "big_key_ops", [], Libbpf: true), // a for_each_map_elem callback needs BTF in the kernel
        new("test:newer_helpers", "string_compare", []),
        new("test:newer_helpers", "format_buf", []),
        new("test:newer_helpers", "format_wide", []),
        new("test:newer_helpers", "format_errors", []),
        new("test:newer_helpers", "tai_clock", []),
        new("test:newer_helpers", "numa_node", []),
        new("test:newer_helpers", "ring_query", []),
        new("test:extern_mixed", "plain_len", [], Libbpf: true, RefusedByEngine: ["uses_kfunc", "uses_ksym"]),
        new("test:extern_mixed", "uses_kconfig", [], Libbpf: true, RefusedByEngine: ["uses_kfunc", "uses_ksym"]),
        new("test:kconfig_values", "kconfig_values", [], Libbpf: true), // libbpf fills .kconfig from the running kernel
        new("test:core_mixed_types", "tc_by_proto", [], Libbpf: true, RefusedByEngine: ["xdp_short_drop"]),
        new("test:core_guarded", "core_guarded", [], Libbpf: true), // libbpf poisons the guarded reads the kernel never reaches
        new("test:core_helper_probe", "helper_probe", [], Libbpf: true), // libbpf answers enum bpf_func_id from the kernel's BTF
        new("test:rodata_strings", "strings_through_static", []),
        new("test:weak_kfunc", "weak_guarded", [], Libbpf: true), // libbpf leaves the weak kfunc the kernel lacks at address 0
        new("test:devmap_mixed", "tc_count", [], Libbpf: true, RefusedByEngine: ["xdp_redirect"]),
        new("test:tail_calls", "entry",
        [
            ("jumps", BitConverter.GetBytes(0u), BitConverter.GetBytes(1)), // mark_even
            ("jumps", BitConverter.GetBytes(1u), BitConverter.GetBytes(2)), // mark_odd
            ("jumps", BitConverter.GetBytes(2u), BitConverter.GetBytes(3)), // entry_again
        ]),
    ];

    public static readonly DifferentialScenario[] All =
    [
        new("allow_port", "allow_port",
        [
            ("allowed_ports", BitConverter.GetBytes((ushort)22), BitConverter.GetBytes(0UL)),
            ("allowed_ports", BitConverter.GetBytes((ushort)443), BitConverter.GetBytes(100UL)),
            ("allowed_ports", BitConverter.GetBytes((ushort)53), BitConverter.GetBytes(0UL)),
        ]),
        new("counter", "count_tenant", []),
        new("vlan_tag", "vlan_tag", []),
        new("vlan_tag", "vlan_untag", []),
        new("rewrite", "rewrite",
        [
            ("nat_rules", new byte[] { 10, 0, 0, 2 }, new byte[] { 10, 9, 9, 9, 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0, 0 }),
            ("nat_rules", new byte[] { 10, 1, 2, 3 }, new byte[] { 172, 16, 5, 5, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0 }),
        ]),
        new("redirect_map", "redirect_by_daddr",
        [
            ("routes", new byte[] { 10, 0, 0, 1 }, BitConverter.GetBytes(1u)),
            ("routes", new byte[] { 192, 168, 1, 7 }, BitConverter.GetBytes(7u)),
        ]),
        new("lpm_acl", "lpm_acl",
        [
            ("acl_v4", new byte[] { 8, 0, 0, 0, 10, 0, 0, 0 }, BitConverter.GetBytes(2u)),
            ("acl_v4", new byte[] { 16, 0, 0, 0, 10, 1, 0, 0 }, BitConverter.GetBytes(0u)),
            ("acl_v4", new byte[] { 32, 0, 0, 0, 10, 0, 0, 1 }, BitConverter.GetBytes(0u)),
            ("acl_v4", new byte[] { 0, 0, 0, 0, 0, 0, 0, 0 }, BitConverter.GetBytes(2u)),
        ]),
    ];

    /// <summary>Kernel per-CPU values summed over CPUs as u64 words, so they compare with a one-CPU engine map.</summary>
    public static byte[] SumPerCpu(byte[] value, int valueSize, int cpus)
    {
        int stride = (valueSize + 7) & ~7;
        var sum = new byte[stride];
        for (int word = 0; word < stride / 8; word++)
        {
            ulong total = 0;
            for (int cpu = 0; cpu < cpus; cpu++) total += BitConverter.ToUInt64(value, cpu * stride + word * 8);
            BitConverter.TryWriteBytes(sum.AsSpan(word * 8), total);
        }
        return sum;
    }

    public static bool IsPerCpu(BpfMapType type) => type is BpfMapType.PercpuHash or BpfMapType.PercpuArray or BpfMapType.LruPercpuHash;
}
