using Appliance.Bpf.Maps;

namespace Appliance.Bpf.Oracle;

/// <summary>One example program with the map contents both sides start from. Entries use the ports and
/// addresses <see cref="PacketCorpus"/> draws from, so every branch of the program is taken.
/// For PROG_ARRAY maps the value is the index of a program in the object (the engine's convention); the
/// kernel side stores that program's fd.</summary>
public sealed record DifferentialScenario(string Example, string Program, (string Map, byte[] Key, byte[] Value)[] Entries)
{
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
        new("test:more_helpers", "ecn_mark", []),
        new("test:more_helpers", "nat64", []),
        new("test:more_helpers", "metadata", []),
        new("test:more_helpers", "mtu", []),
        new("test:more_helpers", "clocks", []),
        new("test:more_helpers", "queues", []),
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

    public static bool IsPerCpu(BpfMapType type) => type is BpfMapType.PercpuHash or BpfMapType.PercpuArray;
}
