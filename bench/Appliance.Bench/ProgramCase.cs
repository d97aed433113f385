using Appliance.Bpf.Oracle;

namespace Appliance.Bench;

/// <summary>One example program as the benchmark runs it: the differential tests' scenario (program and the
/// map entries both sides start from), extra entries, the frame of a given total size, and which path of
/// the program that frame takes run after run. Both sides run the program N times on the same packet
/// without restoring it (as BPF_PROG_TEST_RUN with repeat does in the kernel), so the frames are chosen
/// so that every run takes the same path where the program allows it.</summary>
public sealed record ProgramCase(string Example, (string Map, byte[] Key, byte[] Value)[] ExtraEntries,
    Func<int, byte[]> Frame, string Path)
{
    /// <summary>The example's first program in the differential tests' list (vlan_tag's is the tc one, vlan_tag).</summary>
    public DifferentialScenario Scenario => DifferentialScenario.All.First(s => s.Example == Example);

    public static readonly byte[] HostA = [10, 0, 0, 1], HostB = [10, 0, 0, 2], SameAddressRule = [10, 0, 0, 5], Routed = [192, 168, 1, 7];

    /// <summary>An IPv4/TCP frame of <paramref name="size"/> bytes in total (Ethernet header included).</summary>
    public static byte[] Tcp(byte[] src, byte[] dst, ushort dport, int size) =>
        PacketBuilder.Ipv4(PacketBuilder.Tcp, src, dst, 40000, dport, size - 14 - 20 - 20);

    public static readonly ProgramCase[] All =
    [
        new("allow_port", [], size => Tcp(HostA, HostB, 443, size), "TCP to allowed port 443: hit counter bumped, pass"),
        new("counter", [], size => Tcp(HostA, HostB, 80, size), "per-CPU packets/bytes of tenant ifindex 1 bumped"),
        new("vlan_tag", [], size => Tcp(HostA, HostB, 80, size),
            "run 1 pushes the offloaded tag; later runs see it and return NEXT (same in the kernel's repeat)"),
        // The rule maps 10.0.0.5 to itself with a new MAC, so every run does the whole rewrite:
        // MAC store, L4 and L3 checksum replace, address store.
        new("rewrite", [("nat_rules", SameAddressRule, [10, 0, 0, 5, 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0, 0])],
            size => Tcp(HostA, SameAddressRule, 80, size), "DNAT rule hit: MAC + address stores, L3/L4 checksum replace"),
        new("redirect_map", [], size => Tcp(HostA, Routed, 80, size), "route hit: bpf_redirect to ifindex 7"),
        new("lpm_acl", [], size => Tcp(HostA, HostB, 80, size), "source 10.0.0.1 matches the /32 prefix: pass"),
    ];
}
